import { lambdaClient, s3Client, snsClient, sqsClient } from '../../core/aws/clients';
import { setting } from '../../core/settings';
import { resolverDepsFromEnv } from '../resolve';
import type { ReconcileDeps } from './reconciler';

/** The reconciler's dependencies from the Lambda environment (the CLI builds the same for a stage). */
export function reconcileDepsFromEnv(): ReconcileDeps {
  const prefix = setting('FUNCTION_NAME_PREFIX');
  const queueUrl = setting('FAILED_EVENTS_QUEUE_URL');
  return {
    ...resolverDepsFromEnv(),
    s3: s3Client(),
    lambda: lambdaClient(),
    sns: snsClient(),
    alertsTopicArn: setting('FAILURE_TOPIC_ARN'),
    rawBucket: setting('RAW_BUCKET'),
    lakeBucket: setting('LAKE_BUCKET'),
    functionNames: { validate: `${prefix}validate`, convert: `${prefix}convert`, track: `${prefix}track` },
    ...(queueUrl ? { sqs: sqsClient(), failedEventsQueueUrl: queueUrl } : {}),
  };
}
