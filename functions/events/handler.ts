import type { DynamoDBStreamEvent } from 'aws-lambda';
import { Logger } from '@aws-lambda-powertools/logger';
import { eventsDepsFromEnv, type EventsDeps, fileStateMetricsLines, publishStateChanges } from '../../shared/stages/events';

const logger = new Logger({ serviceName: 'landfall', persistentKeys: { stage: 'events' } });
let deps: EventsDeps | undefined;

/**
 * State-change events: the file-state and job-runs tables' streams → one EventBridge event per
 * state change (at least once). Records whose events could not be put are reported, so the stream
 * delivers them again.
 */
export const handler = async (event: DynamoDBStreamEvent) => {
  deps ??= eventsDepsFromEnv();
  const result = await publishStateChanges(deps, event);
  for (const error of result.errors) logger.error('an event could not be put; its record will be delivered again', { error });
  // Embedded metric format (the dashboard's files by state), through the logger: its JSON keeps
  // `_aws` at the top level, as EMF needs, and a local stack's WARN level keeps a demo's output clean
  for (const line of fileStateMetricsLines(deps.stage, result.published)) logger.info('file state changes', JSON.parse(line) as Record<string, unknown>);
  logger.info('state changes published', { published: result.published.length, skipped: result.skipped, failed: result.batchItemFailures.length });
  return { batchItemFailures: result.batchItemFailures };
};
