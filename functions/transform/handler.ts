import type { Context } from 'aws-lambda';
import { documentClient, s3Client } from '../../shared/aws/clients';
import { loadPipeline } from '../../shared/config/load-config';
import type { JobStage } from '../../shared/config/types';
import { requireEnv } from '../../shared/errors';
import { JobRunStore } from '../../shared/resolve/job-run-store';
import type { RunInput } from '../../shared/resolve/resolver';
import { runStage, type StageDeps } from '../../shared/transform/run-stage';

let deps: StageDeps | undefined;

/** A DuckDB job stage, called by the job-run state machine. */
export const handler = async (request: { run: RunInput; stage: JobStage }, context: Context) => {
  deps ??= {
    s3: s3Client(),
    runs: new JobRunStore(documentClient(), requireEnv('JOB_RUNS_TABLE')),
    pipeline: loadPipeline(),
    lakeBucket: requireEnv('LAKE_BUCKET'),
    functionMemoryMb: Number(context.memoryLimitInMB),
  };
  return runStage(request.run, request.stage, deps);
};
