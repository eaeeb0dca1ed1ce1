import { EMRClient } from '@aws-sdk/client-emr';
import { documentClient, s3Client } from '../../shared/core/aws/clients';
import { loadPipeline } from '../../shared/core/config/load-config';
import { ArcRouter } from '../../shared/core/failover/arc-client';
import { CellClaims } from '../../shared/core/emr/cell-claims';
import { emrSettingsFromEnv } from '../../shared/core/emr/cluster-spec';
import {
  acquireEmrCluster,
  afterClusterEnded,
  afterStepFailure,
  emrJobOf,
  failoverEmr,
  nextEmrStage,
  pollEmrStage,
  prepareEmrRun,
  submitEmrStage,
  type EmrFlowDeps,
  type EmrRunState,
} from '../../shared/stages/orchestrate';
import { JobRunStore } from '../../shared/core/runs/job-run-store';
import type { RunInput } from '../../shared/core/runs/run-input';
import { setting } from '../../shared/core/settings';

type EmrStepRequest =
  | { action: 'prepare'; run: RunInput }
  | { action: 'next' | 'acquire' | 'submit' | 'poll' | 'stepFailed' | 'clusterEnded' | 'failover'; state: EmrRunState };

let deps: EmrFlowDeps | undefined;

function depsFromEnv(): EmrFlowDeps {
  const settings = emrSettingsFromEnv();
  const table = setting('JOB_RUNS_TABLE');
  return {
    emr: new EMRClient({}),
    arc: new ArcRouter({
      cells: settings.cells.map((c) => ({ name: c.name, routingControlArn: c.routingControlArn })),
      endpoints: setting('ARC_ENDPOINTS') as string[],
      region: setting('ARC_REGION'),
    }),
    s3: s3Client(),
    runs: new JobRunStore(documentClient(), table),
    claims: new CellClaims(documentClient(), table),
    lakeBucket: setting('LAKE_BUCKET'),
    settings,
    sparkEntryPoint: setting('SPARK_ENTRY_POINT'),
    sparkSubmitArgs: setting('SPARK_SUBMIT_ARGS') as string[],
    maxStepFailures: setting('EMR_MAX_STEP_FAILURES'),
    backoffBaseSeconds: setting('EMR_BACKOFF_BASE_SECONDS'),
    clusterWaitSeconds: setting('EMR_CLUSTER_WAIT_SECONDS'),
  };
}

const emrJob = (name: string) => emrJobOf(loadPipeline(), name);

/** The EMR job run's tasks: prepare, next stage, acquire a cluster, submit, poll (with the output checks' results once a step completed), after a step failure or a cluster's end, failover. */
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
      return pollEmrStage(request.state, deps, emrJob(request.state.run.job));
    case 'stepFailed':
      return afterStepFailure(request.state, deps);
    case 'failover':
      return failoverEmr(request.state, deps);
  }
};
