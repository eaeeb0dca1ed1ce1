import { setTimeout as sleep } from 'node:timers/promises';
import { type EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import type { Pipeline } from '../../core/config/load-config';
import { eventEntry, requestsOf } from './entries';
import { type StateChange, stateChangeOf } from './state-change';

export interface EventsDeps {
  eventBridge: EventBridgeClient;
  /** the bus the events go to: a name or an ARN */
  eventBusName: string;
  stage: string;
  pipeline: Pipeline;
  /** PutEvents tries per entry before its record is reported failed (default 4) */
  maxAttempts?: number;
  /** the first retry's backoff in ms (doubled each time, full jitter; default 100) */
  backoffBaseMs?: number;
  wait?: (ms: number) => Promise<void>;
}

export interface PublishResult {
  /** the records Lambda delivers again: every one from the first whose event could not be put */
  batchItemFailures: Array<{ itemIdentifier: string }>;
  /** the changes put on the bus that will not be delivered again (the metrics count these) */
  published: StateChange[];
  /** changes put on the bus in this invocation that come after a failed one: redelivered, so put again */
  publishedAgainLater: number;
  /** records that are no state change */
  skipped: number;
  /** why entries failed (the last error of each failed entry) */
  errors: string[];
}

interface Pending {
  sequenceNumber: string;
  change: StateChange;
  entry: PutEventsRequestEntry;
}

/**
 * Puts one EventBridge event per state change of a stream batch (file-state or job-runs table), in
 * requests of at most 10 entries. A failed entry is put again (alone with the other failed ones)
 * with backoff; one still failing stops the batch there: it and every record after it are reported
 * as batch item failures, so Lambda delivers them again and nothing is lost. Events are at least
 * once: a redelivered record is put again (its `eventId` is the same, for consumers that dedupe).
 */
export async function publishStateChanges(deps: EventsDeps, event: DynamoDBStreamEvent): Promise<PublishResult> {
  const records = event.Records ?? [];
  const pending: Pending[] = [];
  let skipped = 0;
  for (const record of records) {
    const change = stateChangeOf(record, { stage: deps.stage, pipeline: deps.pipeline });
    if (!change) {
      skipped += 1;
      continue;
    }
    pending.push({ sequenceNumber: record.dynamodb?.SequenceNumber ?? '', change, entry: eventEntry(change, deps.eventBusName) });
  }
  const result: PublishResult = { batchItemFailures: [], published: [], publishedAgainLater: 0, skipped, errors: [] };
  for (const request of requestsOf(pending)) {
    const failed = await putWithRetries(deps, request, result.errors);
    if (failed.size === 0) {
      result.published.push(...request.map((p) => p.change));
      continue;
    }
    // Lambda resumes a stream batch at its lowest reported sequence number: report from the first failure on.
    const first = request.findIndex((p) => failed.has(p));
    result.published.push(...request.slice(0, first).map((p) => p.change));
    result.publishedAgainLater = request.slice(first).filter((p) => !failed.has(p)).length;
    const from = records.findIndex((r) => r.dynamodb?.SequenceNumber === request[first]!.sequenceNumber);
    result.batchItemFailures = records.slice(from).map((r) => ({ itemIdentifier: r.dynamodb?.SequenceNumber ?? '' }));
    break;
  }
  return result;
}

/** One request's entries, the failed ones put again until they succeed or the tries run out; returns those still failed. */
async function putWithRetries(deps: EventsDeps, request: Pending[], errors: string[]): Promise<Set<Pending>> {
  const maxAttempts = deps.maxAttempts ?? 4;
  const base = deps.backoffBaseMs ?? 100;
  const wait = deps.wait ?? ((ms: number) => sleep(ms));
  let left = request;
  const lastError = new Map<Pending, string>();
  for (let attempt = 1; left.length > 0 && attempt <= maxAttempts; attempt += 1) {
    if (attempt > 1) await wait(Math.random() * base * 2 ** (attempt - 2));
    try {
      const out = await deps.eventBridge.send(new PutEventsCommand({ Entries: left.map((p) => p.entry) }));
      if (!out.FailedEntryCount) {
        left = [];
        break;
      }
      // answers are in the request's order; a failed one has an ErrorCode and no EventId
      const entries = out.Entries ?? [];
      const still = left.filter((p, i) => {
        const answer = entries[i];
        if (answer?.EventId && !answer.ErrorCode) return false;
        lastError.set(p, `${answer?.ErrorCode ?? 'NoAnswer'}: ${answer?.ErrorMessage ?? 'no answer for this entry'}`);
        return true;
      });
      left = still;
    } catch (err) {
      // the SDK already retried throttling and server errors: count this as a failed try of every entry
      for (const p of left) lastError.set(p, `${(err as Error).name}: ${(err as Error).message}`);
    }
  }
  for (const p of left) errors.push(`${p.change.kind} ${p.change.eventId}: ${lastError.get(p) ?? 'not put'}`);
  return new Set(left);
}
