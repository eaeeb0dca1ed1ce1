export { reconcileDepsFromEnv } from './deps';
export { describeRepair, reconcile } from './reconciler';
export type { ReconcileDeps } from './reconciler';
