import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import type { DatasetConfig } from '../config/types';
import { openDuckDb } from '../convert/duckdb';
import { FileLineSink } from './file-sink';
import { readManifest, summarizeManifest, type ManifestRead } from './manifest-summary';
import type { Verdict } from './verdict';
import { validateWithDuckDb } from './validate-duckdb';
import { REJECTS_HEADER, validateFile, type LineSink, type ValidationOutcome } from './validate-file';

export interface LocalValidation {
  outcome: ValidationOutcome;
  rules: Verdict['rules'];
  /** the rejects report (header first), when there are bad rows */
  rejectsPath?: string;
  /** a manifest dataset's summary (or why the manifest is unusable), for a VALIDATED file */
  manifest?: ManifestRead;
}

/** Counts lines and keeps none: the good rows of the JavaScript path are only wanted for a manifest. */
const discard: LineSink = { write() {} };

/**
 * Validates a landed file already in /tmp: in DuckDB (validate-duckdb.ts) unless it hands the file
 * to the JavaScript rules (a file DuckDB cannot read exactly as they do; see Fallback), which then
 * decide. Either way the result says which rules convert must apply to find the same good rows.
 */
export async function validateLocalFile(
  file: { path: string; size: number },
  dataset: DatasetConfig,
  fields: Record<string, string>,
  settings: { workDir: string; functionMemoryMb: number },
): Promise<LocalValidation> {
  const rejects = new FileLineSink(join(settings.workDir, 'rejects.csv'));
  const duckdb = await openDuckDb({ workDir: settings.workDir, functionMemoryMb: settings.functionMemoryMb, preserveOrder: true });
  let why: string;
  try {
    await rejects.write(REJECTS_HEADER);
    const verdict = await validateWithDuckDb(duckdb.conn, file, dataset, fields, rejects);
    if (verdict.kind === 'decided') {
      await rejects.close();
      const result: LocalValidation = { outcome: verdict.outcome, rules: { engine: 'duckdb', skipLines: verdict.skipLines } };
      if (verdict.outcome.rows.rejected > 0) result.rejectsPath = rejects.path;
      if (dataset.manifest && verdict.outcome.state === 'VALIDATED') result.manifest = summarizeManifest(await verdict.goodValues!(dataset.manifest.column), dataset);
      return result;
    }
    why = verdict.why;
  } finally {
    duckdb.close();
    await rejects.close();
  }
  return validateInJavaScript(file.path, dataset, fields, settings.workDir, why);
}

async function validateInJavaScript(path: string, dataset: DatasetConfig, fields: Record<string, string>, workDir: string, why: string): Promise<LocalValidation> {
  const rejects = new FileLineSink(join(workDir, 'rejects-js.csv'));
  const good = dataset.manifest ? new FileLineSink(join(workDir, 'good.csv')) : undefined;
  let outcome: ValidationOutcome;
  try {
    outcome = await validateFile(createReadStream(path, { highWaterMark: 1 << 20 }), dataset, fields, { good: good ?? discard, rejects });
  } finally {
    await Promise.all([rejects.close(), good?.close()]);
  }
  const result: LocalValidation = { outcome, rules: { engine: 'javascript', why } };
  if (outcome.rows.rejected > 0) result.rejectsPath = rejects.path;
  if (good && outcome.state === 'VALIDATED') result.manifest = await readManifest(good.path, dataset);
  return result;
}
