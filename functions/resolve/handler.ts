import type { DynamoDBStreamEvent } from 'aws-lambda';
import { Logger } from '@aws-lambda-powertools/logger';
import type { BatchRef } from '../../shared/resolve/batches';
import { resolverDepsFromEnv } from '../../shared/resolve/deps';
import { retryBatch, type ResolverDeps } from '../../shared/resolve/resolver';
import { resolveStreamBatch } from '../../shared/resolve/stream';
import { sweep } from '../../shared/resolve/sweep';

const logger = new Logger({ serviceName: 'landfall', persistentKeys: { stage: 'resolve' } });
let deps: ResolverDeps | undefined;

type ResolveEvent = DynamoDBStreamEvent | { 'detail-type': 'Scheduled Event' } | { action: 'sweep' } | { action: 'retry'; batch: BatchRef };

/**
 * The dependency resolver: the file-state table's stream (partial batch failures reported), the
 * scheduled sweep, and an operator's retry of a failed batch.
 */
export const handler = async (event: ResolveEvent) => {
  deps ??= resolverDepsFromEnv();
  if ('Records' in event) {
    const result = await resolveStreamBatch(deps, event);
    for (const error of result.errors) logger.error('resolving a batch failed; its records will be retried', { error });
    for (const outcome of result.outcomes) logger.info('batch resolved', { outcome });
    return { batchItemFailures: result.batchItemFailures };
  }
  if ('action' in event && event.action === 'retry') {
    const outcome = await retryBatch(deps, event.batch);
    logger.info('batch retried', { outcome });
    return outcome;
  }
  const outcomes = await sweep(deps);
  logger.info('sweep done', { started: outcomes.filter((o) => o.kind === 'started').length, batches: outcomes.length });
  return { outcomes };
};
