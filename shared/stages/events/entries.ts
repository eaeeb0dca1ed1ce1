import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { DETAIL_TYPES, EVENT_SOURCE, type StateChange } from './state-change';

/** PutEvents takes at most 10 entries a request. */
export const MAX_ENTRIES_PER_REQUEST = 10;
/** …and at most 256 KB a request (AWS counts each entry's source, detail type, detail and resources). */
export const MAX_REQUEST_BYTES = 256 * 1024;

/** The event's detail: the change without its kind (the detail type says it). */
export function detailOf(change: StateChange): Record<string, unknown> {
  const { kind: _kind, ...detail } = change;
  return detail;
}

/** One PutEvents entry of a state change, on the bus the deployment names. */
export function eventEntry(change: StateChange, eventBusName: string): PutEventsRequestEntry {
  return {
    Source: EVENT_SOURCE,
    DetailType: DETAIL_TYPES[change.kind],
    Detail: JSON.stringify(detailOf(change)),
    EventBusName: eventBusName,
    Time: new Date(change.at),
  };
}

/** An entry's size as EventBridge counts it against the request's limit (Time: 14 bytes). */
export function entrySize(entry: PutEventsRequestEntry): number {
  const bytes = (text: string | undefined) => Buffer.byteLength(text ?? '', 'utf8');
  return 14 + bytes(entry.Source) + bytes(entry.DetailType) + bytes(entry.Detail) + (entry.Resources ?? []).reduce((n, r) => n + bytes(r), 0);
}

/** Entries in order, in requests of at most 10 entries and 256 KB. */
export function requestsOf<T extends { entry: PutEventsRequestEntry }>(items: T[]): T[][] {
  const requests: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const item of items) {
    const bytes = entrySize(item.entry);
    if (current.length > 0 && (current.length >= MAX_ENTRIES_PER_REQUEST || size + bytes > MAX_REQUEST_BYTES)) {
      requests.push(current);
      current = [];
      size = 0;
    }
    current.push(item);
    size += bytes;
  }
  if (current.length > 0) requests.push(current);
  return requests;
}
