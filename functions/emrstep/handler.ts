import { EMRClient } from '@aws-sdk/client-emr';
import { documentClient, s3Client } from '../../shared/core/aws/clients';
import { loadPipeline } from '../../shared/core/config/load-config';
import { requireEnv } from '../../shared/core/errors';
import { ArcRouter } from '../../shared/core/failover/arc-client';
import { CellClaims } from '../../shared/core/emr/cell-claims';
import { emrSettingsFromEnv } from '../../shared/core/emr/cluster-spec';
import { acquireEmrCluster, afterClusterEnded, afterStepFailure, emrJobOf, failoverEmr, nextEmrStage, pollEmrStage, prepareEmrRun, submitEmrStage, type EmrFlowDeps, type EmrRunState } from '../../shared/stages/orchestrate';
import { JobRunStore } from '../../shared/core/runs/job-run-store';
import type { RunInput } from '../../shared/core/runs/run-input';

type EmrStepRequest =
  | { action: 'prepare'; run: RunInput }
  | { action: 'next' | 'acquire' | 'submit' | 'poll' | 'stepFailed' | 'clusterEnded' | 'failover'; state: EmrRunState };

let deps: EmrFlowDeps | undefined;

function depsFromEnv(): EmrFlowDeps {
  const settings = emrSettingsFromEnv();
  const table = requireEnv('JOB_RUNS_TABLE');
  return {
    emr: new EMRClient({}),
    arc: new ArcRouter({ cells: settings.cells.map((c) => ({ name: c.name, routingControlArn: c.routingControlArn })), endpoints: JSON.parse(requireEnv('ARC_ENDPOINTS')) as string[], region: requireEnv('ARC_REGION') }),
    s3: s3Client(),
    runs: new JobRunStore(documentClient(), table),
    claims: new CellClaims(documentClient(), table),
    lakeBucket: requireEnv('LAKE_BUCKET'),
    settings,
    sparkEntryPoint: requireEnv('SPARK_ENTRY_POINT'),
    sparkSubmitArgs: JSON.parse(process.env.SPARK_SUBMIT_ARGS ?? '[]') as string[],
    maxStepFailures: Number(process.env.EMR_MAX_STEP_FAILURES ?? 3),
    backoffBaseSeconds: Number(process.env.EMR_BACKOFF_BASE_SECONDS ?? 30),
    clusterWaitSeconds: Number(process.env.EMR_CLUSTER_WAIT_SECONDS ?? 30),
  };
}

const emrJob = (name: string) => emrJobOf(loadPipeline(), name);

/** The EMR job run's tasks: prepare, next stage, acquire a cluster, submit, poll, after a step failure or a cluster's end, failover. */
export const handler = async (request: EmrStepRequest): Promise<EmrRunState> => {
  deps ??= depsFromEnv();
  switch (request.action) {
    case 'prepare':
      return prepareEmrRun(request.run, emrJob(request.run.job).config.output.table, deps);
    case 'next':
      return nextEmrStage(request.state, emrJob(request.state.run.job).config.output.table, deps);
    case 'acquire':
      return acquireEmrCluster(request.state, deps);
    case 'clusterEnded':
      return afterClusterEnded(request.state, deps);
    case 'submit':
      return submitEmrStage(request.state, emrJob(request.state.run.job), deps);
    case 'poll':
      return pollEmrStage(request.state, deps);
    case 'stepFailed':
      return afterStepFailure(request.state, deps);
    case 'failover':
      return failoverEmr(request.state, deps);
  }
};
