import { documentClient, s3Client, sfnClient } from '../../core/aws/clients';
import { loadPipeline } from '../../core/config/load-config';
import { FileStateStore } from '../../core/state/file-state-store';
import { JobRunStore } from '../../core/runs/job-run-store';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { Pipeline } from '../../core/config/load-config';
import type { RunEngine } from '../../core/runs/run-input';
import { setting } from '../../core/settings';

export interface ResolverDeps {
  pipeline: Pipeline;
  files: FileStateStore;
  runs: JobRunStore;
  sfn: SFNClient;
  /** the state machine that runs each engine's jobs */
  stateMachineArns: Record<RunEngine, string>;
  /**
   * The raw bucket, where a batch's landed objects are listed before it is claimed (an object
   * validate has not recorded yet holds it: unrecorded-hold.ts). Without it nothing is listed.
   */
  landing?: { s3: S3Client; bucket: string };
}

/** The resolver's dependencies from the Lambda environment (resolve and jobstep share them). */
export function resolverDepsFromEnv(): ResolverDeps {
  return {
    pipeline: loadPipeline(),
    files: new FileStateStore(documentClient(), setting('FILE_STATE_TABLE')),
    runs: new JobRunStore(documentClient(), setting('JOB_RUNS_TABLE')),
    sfn: sfnClient(),
    stateMachineArns: { duckdb: setting('STATE_MACHINE_ARN'), emr: setting('EMR_STATE_MACHINE_ARN') },
    landing: { s3: s3Client(), bucket: setting('RAW_BUCKET') },
  };
}
