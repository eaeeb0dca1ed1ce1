import type { Context, S3Event } from 'aws-lambda';
import { Logger } from '@aws-lambda-powertools/logger';
import { objectRefFromRecord, versionTag, type ObjectRef } from '../s3/event-records';

export type RecordProcessor<R> = (ref: ObjectRef) => Promise<R>;

/**
 * A Lambda handler for S3 notifications. Each record is processed on its own: a record that fails
 * does not stop the others; the invocation then throws so Lambda retries it. Redelivered records
 * are made harmless by the processors themselves, on natural keys (the LATEST claim and the
 * versioned report key in validate, the Parquet's lineage in convert, the states already seen in
 * track), not by a separate idempotency record: that costs no DynamoDB write per record (see
 * docs/performance.md). `setup` runs once per container (cold start).
 */
export function s3RecordHandler<R>(name: string, setup: (context: Context) => RecordProcessor<R>) {
  const logger = new Logger({ serviceName: 'landfall', persistentKeys: { stage: name } });
  let processor: RecordProcessor<R> | undefined;

  return async (event: S3Event, context: Context): Promise<{ processed: number; results: R[] }> => {
    processor ??= setup(context);
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
        const result = await processor(ref);
        log.info('record processed', { result: result as Record<string, unknown> });
        results.push(result);
      } catch (err) {
        log.error('record failed; the invocation will be retried', err as Error);
        failures.push(err);
      }
    }
    // The error reaches the failed-events queue (and the reconciler's FAILED reason): keep its name
    // and words rather than a bare "1 of 1 records failed".
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) {
      const each = failures.map((e) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e))).join('; ');
      throw new AggregateError(failures, `${failures.length} of ${event.Records.length} records failed in ${name}: ${each}`.slice(0, 4000));
    }
    return { processed: results.length, results };
  };
}
