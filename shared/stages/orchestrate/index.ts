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
export { recordPartition } from './partitions';
export type { PartitionDeps } from './partitions';
export type { JobStepDeps, JobStepRequest } from './job-steps';
export { logLocationOf, logTail, parseCause } from './failure-report';
