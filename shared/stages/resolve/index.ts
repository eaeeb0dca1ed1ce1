export { checkActiveRun } from './active-runs';
export { resolverDepsFromEnv } from './deps';
export { BatchBusyError, NoFailedRunError, currentGeneration, explainBatch, resolveBatch, retryBatch, settleSecondsOf } from './resolver';
export type { ResolveOutcome } from './resolver';
export type { ResolverDeps } from './deps';
export { resolveStreamBatch } from './stream';
