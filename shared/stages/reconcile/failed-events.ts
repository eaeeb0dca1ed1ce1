import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { S3Client } from '@aws-sdk/client-s3';
import type { S3EventRecord } from 'aws-lambda';
import { objectRefFromRecord, versionTag, type ObjectRef } from '../../core/s3/event-records';
import { PREFIX, landedVersionOfReport } from '../../core/s3/layout';
import { headObject } from '../../core/s3/object-io';
import { parseLineage } from '../../core/state/lineage';
import type { FileStateStore } from '../../core/state/file-state-store';

/**
 * One message of the failed-events queue, in either shape AWS writes there: a Lambda async
 * invocation whose retries ran out (`requestPayload` is the S3 event, `responsePayload` the
 * error), or a stream batch the resolver's event source mapping gave up on (`DDBStreamBatchInfo`:
 * which records, not the records themselves).
 */
export interface FailedEvent {
  requestContext?: { functionArn?: string; condition?: string; approximateInvokeCount?: number };
  requestPayload?: { Records?: S3EventRecord[] };
  responsePayload?: { errorType?: string; errorMessage?: string };
  DDBStreamBatchInfo?: { approximateArrivalOfFirstRecord?: string; approximateArrivalOfLastRecord?: string; batchSize?: number };
}

/** What a parked event tells the reconciler. */
export interface ParkedEvents {
  /** landed versions whose stage failed, with the error (the file-state item is what gets re-driven) */
  failedFiles: Array<{ source: ObjectRef; error: string; functionName: string }>;
  /** the earliest time a lost stream batch's files settled: the settled window reaches back to it */
  lostStreamSince?: string;
  messages: number;
}

/** Which landed version an object a stage was working on belongs to. */
async function sourceOf(s3: S3Client, ref: ObjectRef, rawBucket: string): Promise<ObjectRef | undefined> {
  if (ref.bucket === rawBucket && ref.key.startsWith(PREFIX.landing)) return ref;
  const reported = ref.bucket === rawBucket ? landedVersionOfReport(ref.key) : null;
  if (reported)
    return {
      bucket: rawBucket,
      key: reported.key,
      ...(reported.versionId !== 'null' ? { versionId: reported.versionId } : {}),
      eTag: '',
      size: 0,
      sequencer: '',
      eventTime: '',
    };
  try {
    return parseLineage((await headObject(s3, ref.bucket, ref.key, ref.versionId)).metadata).source;
  } catch {
    return undefined; // gone, or not landfall's: the message says nothing the file states do not
  }
}

const functionNameOf = (arn = '') => arn.split(':function:')[1]?.split(':')[0] ?? arn;

/** `value[key]` when the value is a JSON object (not null, not a list). */
const field = (value: unknown, key: string): unknown =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/**
 * What a message body says, each part kept only in the shape AWS writes it: a body that is not
 * JSON, or JSON of another shape (`null`, a list, a number), says nothing. Reading a body must not
 * throw: a message that fails before it is deleted comes back and fails every pass.
 */
function readFailedEvent(body: string | undefined): FailedEvent {
  let json: unknown;
  try {
    json = JSON.parse(body ?? '{}');
  } catch {
    return {}; // not one of Lambda's records: nothing to learn from it
  }
  const records = field(field(json, 'requestPayload'), 'Records');
  const response = field(json, 'responsePayload');
  return {
    requestContext: { functionArn: text(field(field(json, 'requestContext'), 'functionArn')) },
    // each record is checked as it is read (objectRefFromRecord)
    requestPayload: { Records: Array.isArray(records) ? (records as S3EventRecord[]) : [] },
    responsePayload: { errorType: text(field(response, 'errorType')), errorMessage: text(field(response, 'errorMessage')) },
    DDBStreamBatchInfo: { approximateArrivalOfFirstRecord: text(field(field(json, 'DDBStreamBatchInfo'), 'approximateArrivalOfFirstRecord')) },
  };
}

/**
 * Empties the failed-events queue (at most `limit` messages a pass), remembering what each message
 * says: the landed version and error of a failed stage, or the time of a lost stream batch. Each
 * message is deleted once read: the file states, not the queue, drive the repairs, so nothing is
 * re-driven twice and a poison event does not circle for ever.
 */
export async function drainFailedEvents(
  deps: { sqs: SQSClient; queueUrl: string; s3: S3Client; rawBucket: string; files: FileStateStore },
  limit = 500,
): Promise<ParkedEvents> {
  const parked: ParkedEvents = { failedFiles: [], messages: 0 };
  while (parked.messages < limit) {
    const out = await deps.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: deps.queueUrl,
        MaxNumberOfMessages: Math.min(10, limit - parked.messages),
        VisibilityTimeout: 300,
        WaitTimeSeconds: 0,
      }),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) break;
    for (const message of messages) {
      parked.messages += 1;
      const event = readFailedEvent(message.Body);
      const since = event.DDBStreamBatchInfo?.approximateArrivalOfFirstRecord;
      if (since && (!parked.lostStreamSince || since < parked.lostStreamSince)) parked.lostStreamSince = since;
      const functionName = functionNameOf(event.requestContext?.functionArn);
      const error = `${functionName}: ${event.responsePayload?.errorType ?? 'Error'}: ${event.responsePayload?.errorMessage ?? 'no error message'}`;
      for (const record of event.requestPayload?.Records ?? []) {
        let ref: ObjectRef;
        try {
          ref = objectRefFromRecord(record);
        } catch {
          continue;
        }
        const source = await sourceOf(deps.s3, ref, deps.rawBucket);
        if (!source) continue;
        parked.failedFiles.push({ source, error, functionName });
        await deps.files.noteError(source.key, versionTag(source.versionId), error);
      }
      await deps.sqs.send(new DeleteMessageCommand({ QueueUrl: deps.queueUrl, ReceiptHandle: message.ReceiptHandle }));
    }
  }
  return parked;
}
