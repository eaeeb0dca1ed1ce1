export {
  acquireEmrCluster,
  afterClusterEnded,
  afterStepFailure,
  emrJobOf,
  failoverEmr,
  nextEmrStage,
  pollEmrStage,
  prepareEmrRun,
  submitEmrStage,
} from './emr-flow';
export type { EmrFlowDeps, EmrRunState } from './emr-flow';
export { runJobStep } from './job-steps';
export type { JobStepDeps, JobStepRequest } from './job-steps';
