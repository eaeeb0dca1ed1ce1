import { documentClient, sfnClient } from '../aws/clients';
import { loadPipeline } from '../config/load-config';
import { requireEnv } from '../errors';
import { FileStateStore } from '../state/file-state-store';
import { JobRunStore } from './job-run-store';
import type { ResolverDeps } from './resolver';

/** The resolver's dependencies from the Lambda environment (resolve and jobstep share them). */
export function resolverDepsFromEnv(): ResolverDeps {
  return {
    pipeline: loadPipeline(),
    files: new FileStateStore(documentClient(), requireEnv('FILE_STATE_TABLE')),
    runs: new JobRunStore(documentClient(), requireEnv('JOB_RUNS_TABLE')),
    sfn: sfnClient(),
    stateMachineArns: { duckdb: requireEnv('STATE_MACHINE_ARN'), emr: requireEnv('EMR_STATE_MACHINE_ARN') },
  };
}
