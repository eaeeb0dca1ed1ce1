/** What a run reads: exactly these Parquet object versions. */
export interface SelectedFile {
  key: string;
  versionId: string;
  processedKey: string;
  processedVersionId?: string;
}

export type RunEngine = 'duckdb' | 'emr';

/** The execution input: everything a run needs, so every state is a pure function of it. */
export interface RunInput {
  job: string;
  batchId: string;
  values: Record<string, string>;
  executionName: string;
  fingerprint: string;
  inputs: Record<string, SelectedFile[]>;
  /** the engine this run was routed to */
  engine: RunEngine;
  /** stage names in order: each function finds the stage's SQL or Spark module in its own configuration */
  stages: Array<{ name: string }>;
  /** the job loads the warehouse after its curated write (its `load`) */
  warehouse?: true;
  /**
   * The run first waits `seconds`, then takes the batch's newest inputs (a burst of landings ends
   * in one run); `round` counts the waits. Absent once settled, and for a job with settleSeconds 0.
   */
  settle?: { seconds: number; round: number };
}
