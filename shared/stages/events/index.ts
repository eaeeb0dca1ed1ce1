export { eventsDepsFromEnv } from './deps';
export { detailOf, entrySize, eventEntry, MAX_ENTRIES_PER_REQUEST, MAX_REQUEST_BYTES, requestsOf } from './entries';
export { fileStateMetricsLines } from './metrics';
export { publishStateChanges } from './publish';
export type { EventsDeps, PublishResult } from './publish';
export { DETAIL_TYPES, EVENT_SOURCE, MAX_BATCHES, MAX_TEXT_CHARS, stateChangeOf } from './state-change';
export type { BatchStateChange, ClassifyContext, FileStateChange, RunStateChange, StateChange } from './state-change';
