import type { DynamoDBStreamEvent } from 'aws-lambda';
import { Logger } from '@aws-lambda-powertools/logger';
import type { BatchRef } from '../../shared/core/runs/batches';
import { resolverDepsFromEnv, retryBatch, type ResolverDeps, resolveStreamBatch } from '../../shared/stages/resolve';

const logger = new Logger({ serviceName: 'landfall', persistentKeys: { stage: 'resolve' } });
let deps: ResolverDeps | undefined;

type ResolveEvent = DynamoDBStreamEvent | { action: 'retry'; batch: BatchRef };

/**
 * The dependency resolver: the file-state table's stream (partial batch failures reported) and an
 * operator's retry of a failed or stuck batch. (The reconciler is the safety net behind the stream.)
 */
export const handler = async (event: ResolveEvent) => {
  deps ??= resolverDepsFromEnv();
  if ('Records' in event) {
    const result = await resolveStreamBatch(deps, event);
    for (const error of result.errors) logger.error('resolving a batch failed; its records will be retried', { error });
    for (const outcome of result.outcomes) logger.info('batch resolved', { outcome });
    return { batchItemFailures: result.batchItemFailures };
  }
  const outcome = await retryBatch(deps, event.batch);
  logger.info('batch retried', { outcome });
  return outcome;
};
