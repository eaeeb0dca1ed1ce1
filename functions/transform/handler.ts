import type { Context } from 'aws-lambda';
import { documentClient, s3Client } from '../../shared/core/aws/clients';
import { loadPipeline } from '../../shared/core/config/load-config';
import type { JobStage } from '../../shared/core/config/types';
import { JobRunStore } from '../../shared/core/runs/job-run-store';
import type { RunInput } from '../../shared/core/runs/run-input';
import { setting } from '../../shared/core/settings';
import { runStage, type StageDeps } from '../../shared/stages/transform';

let deps: StageDeps | undefined;

/** A DuckDB job stage, called by the job-run state machine. */
export const handler = async (request: { run: RunInput; stage: JobStage }, context: Context) => {
  deps ??= {
    s3: s3Client(),
    runs: new JobRunStore(documentClient(), setting('JOB_RUNS_TABLE')),
    pipeline: loadPipeline(),
    lakeBucket: setting('LAKE_BUCKET'),
    functionMemoryMb: Number(context.memoryLimitInMB),
    deploymentStage: setting('LANDFALL_STAGE'),
  };
  return runStage(request.run, request.stage, deps);
};
