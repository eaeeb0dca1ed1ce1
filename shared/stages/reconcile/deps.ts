import { lambdaClient, s3Client, snsClient, sqsClient } from '../../core/aws/clients';
import { requireEnv } from '../../core/errors';
import { resolverDepsFromEnv } from '../resolve';
import type { ReconcileDeps } from './reconciler';

/** The reconciler's dependencies from the Lambda environment (the CLI builds the same for a stage). */
export function reconcileDepsFromEnv(): ReconcileDeps {
  const prefix = requireEnv('FUNCTION_NAME_PREFIX');
  const queueUrl = process.env.FAILED_EVENTS_QUEUE_URL;
  return {
    ...resolverDepsFromEnv(),
    s3: s3Client(),
    lambda: lambdaClient(),
    sns: snsClient(),
    alertsTopicArn: requireEnv('FAILURE_TOPIC_ARN'),
    rawBucket: requireEnv('RAW_BUCKET'),
    lakeBucket: requireEnv('LAKE_BUCKET'),
    functionNames: { validate: `${prefix}validate`, convert: `${prefix}convert`, track: `${prefix}track` },
    ...(queueUrl ? { sqs: sqsClient(), failedEventsQueueUrl: queueUrl } : {}),
  };
}
