import type { Context, S3Event } from 'aws-lambda';
import { Logger } from '@aws-lambda-powertools/logger';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { dynamoDbClient } from '../aws/clients';
import { requireEnv } from '../errors';
import { objectRefFromRecord, versionTag, type ObjectRef } from '../s3/event-records';

/** What makes an S3 record the same record: the object version and its bytes. */
export interface ObjectIdentity {
  bucket: string;
  key: string;
  versionId: string;
  eTag: string;
}

export const identityOf = (ref: ObjectRef): ObjectIdentity => ({ bucket: ref.bucket, key: ref.key, versionId: versionTag(ref.versionId), eTag: ref.eTag });

const IDEMPOTENCY_TTL_SECONDS = 7 * 24 * 3600;

export type RecordProcessor<R> = (ref: ObjectRef) => Promise<R>;

/**
 * A Lambda handler for S3 notifications that processes each record at most once per
 * (bucket, key, versionId, eTag), with Powertools Idempotency in DynamoDB. A record that fails
 * does not stop the others; the invocation then throws so Lambda retries, and the records
 * that succeeded are skipped on the retry. `setup` runs once per container (cold start).
 */
export function s3RecordHandler<R>(name: string, setup: (context: Context) => RecordProcessor<R>) {
  const logger = new Logger({ serviceName: 'landfall', persistentKeys: { stage: name } });
  let ready: { process: (identity: ObjectIdentity, ref: ObjectRef) => Promise<R>; config: IdempotencyConfig } | undefined;
  const init = (context: Context) => {
    const processor = setup(context);
    const config = new IdempotencyConfig({ expiresAfterSeconds: IDEMPOTENCY_TTL_SECONDS });
    const persistenceStore = new DynamoDBPersistenceLayer({ tableName: requireEnv('IDEMPOTENCY_TABLE'), awsSdkV3Client: dynamoDbClient() });
    const process = makeIdempotent(async (_identity: ObjectIdentity, ref: ObjectRef) => processor(ref), {
      persistenceStore,
      config,
      keyPrefix: `landfall-${name}`,
      dataIndexArgument: 0,
    });
    return { process, config };
  };

  return async (event: S3Event, context: Context): Promise<{ processed: number; results: R[] }> => {
    ready ??= init(context);
    ready.config.registerLambdaContext(context);
    // Child loggers, not appendKeys: keys stay per invocation and per record even when a local
    // stack runs several invocations of one handler in a process.
    const invocationLogger = logger.createChild();
    invocationLogger.addContext(context);
    const results: R[] = [];
    const failures: unknown[] = [];
    for (const record of event?.Records ?? []) {
      let ref: ObjectRef;
      try {
        ref = objectRefFromRecord(record);
      } catch (err) {
        invocationLogger.error('skipping a malformed S3 event record', { error: err as Error, record: record as unknown as Record<string, unknown> });
        continue;
      }
      const log = invocationLogger.createChild({ persistentKeys: { bucket: ref.bucket, key: ref.key, versionId: versionTag(ref.versionId) } });
      log.setCorrelationId(`${ref.key}@${versionTag(ref.versionId)}`);
      try {
        const result = await ready.process(identityOf(ref), ref);
        log.info('record processed', { result: result as Record<string, unknown> });
        results.push(result);
      } catch (err) {
        log.error('record failed; the invocation will be retried', err as Error);
        failures.push(err);
      }
    }
    if (failures.length > 0) throw new AggregateError(failures, `${failures.length} of ${event.Records.length} records failed in ${name}`);
    return { processed: results.length, results };
  };
}
