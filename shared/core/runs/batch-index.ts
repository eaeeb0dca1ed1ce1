/**
 * The job-runs table's indexes over batch items (serverless.yml, JobRunsTable), so that the console
 * reads batches with Queries, never a Scan:
 * - `gsi2`, the grid: every batch of a job (`gridPk = GRID#<job>`) by business date
 *   (`gridSk = <date>#<batchId>`): a date range is one sort-key range;
 * - `gsi3`, open batches: a batch while it is WAITING, RUNNING, FAILED or CHECK_FAILED
 *   (`openPk = OPEN#<job>#<status>`, the same sort key), removed when it succeeds (sparse).
 * The keys are written on the batch item by the same UpdateItem that sets its status (job-run-store.ts)
 * and are derived from the batch id alone, so that every write (even one that knows only the id) can
 * set them. Pure.
 */

export const GRID_INDEX = 'gsi2';
export const OPEN_INDEX = 'gsi3';

/** The statuses the open index lists: a batch not SUCCEEDED. */
export const OPEN_STATUSES = ['WAITING', 'RUNNING', 'FAILED', 'CHECK_FAILED'] as const;
export type OpenStatus = (typeof OPEN_STATUSES)[number];

export const isOpenStatus = (status: string): status is OpenStatus => (OPEN_STATUSES as readonly string[]).includes(status);

/** The sort keys of a day end below this (every batch id is printable text). */
export const END_OF_DAY = '\uffff';

const DATE_SEGMENT = /^[^=]+=(\d{4}-\d{2}-\d{2})$/;

/** The job of a batch id (`pos_daily_sales#province=ON#date=2026-11-23`): before its first `#` (job names are identifiers). */
export function jobOfBatchId(batchId: string): string {
  const at = batchId.indexOf('#');
  return at < 0 ? batchId : batchId.slice(0, at);
}

/** Where the business date is in a batch id: the value of its first `field=YYYY-MM-DD` segment (a batch key holds its job's date field). */
function dateSpan(batchId: string): { start: number; end: number } | undefined {
  let offset = 0;
  for (const segment of batchId.split('#')) {
    const match = DATE_SEGMENT.exec(segment);
    if (match) return { start: offset + segment.length - 10, end: offset + segment.length };
    offset += segment.length + 1;
  }
  return undefined;
}

/** The business date of a batch id, or '' for a batch key without a date. */
export function businessDateOfBatchId(batchId: string): string {
  const span = dateSpan(batchId);
  return span ? batchId.slice(span.start, span.end) : '';
}

/**
 * The batch id of the same row (job and key values but the date) on another date. Batch ids of one
 * date sort as their rows do on every date (dates have one length), which is what lets the grid
 * page through rows with one cursor.
 */
export function batchIdOnDate(batchId: string, date: string): string {
  const span = dateSpan(batchId);
  return span ? `${batchId.slice(0, span.start)}${date}${batchId.slice(span.end)}` : batchId;
}

/** A row of the grid: the batch id with its date left out (`pos_daily_sales#province=ON#date=`). */
export const rowOfBatchId = (batchId: string) => batchIdOnDate(batchId, '');

export const gridPartition = (job: string) => `GRID#${job}`;
export const openPartition = (job: string, status: OpenStatus) => `OPEN#${job}#${status}`;
/** Both indexes' sort key: `<business date>#<batch id>`. */
export const batchSortKey = (batchId: string) => `${businessDateOfBatchId(batchId)}#${batchId}`;
/** The business date a sort key starts with. */
export const dateOfSortKey = (sortKey: string) => sortKey.slice(0, sortKey.indexOf('#'));

/**
 * The index attributes of a batch item in `status` as an UpdateExpression's parts: SET the grid's
 * keys, and SET the open index's while the status is open or REMOVE them once it is not. Without a
 * status (a write that leaves it as it is), only the grid's. Writing them again is harmless.
 */
export function indexUpdate(batchId: string, status?: string): { set: string[]; remove: string[]; values: Record<string, string> } {
  const sortKey = batchSortKey(batchId);
  const set = ['gridPk = :gridPk', 'gridSk = :gridSk'];
  const values: Record<string, string> = { ':gridPk': gridPartition(jobOfBatchId(batchId)), ':gridSk': sortKey };
  if (status === undefined) return { set, remove: [], values };
  if (!isOpenStatus(status)) return { set, remove: ['openPk', 'openSk'], values };
  return {
    set: [...set, 'openPk = :openPk', 'openSk = :openSk'],
    remove: [],
    values: { ...values, ':openPk': openPartition(jobOfBatchId(batchId), status), ':openSk': sortKey },
  };
}

/** The same attributes as an item's fields (a Put, or a test's expectation). */
export function indexAttributes(batchId: string, status: string): Record<string, string> {
  const { set, values } = indexUpdate(batchId, status);
  return Object.fromEntries(set.map((clause) => clause.split(' = ') as [string, string]).map(([name, value]) => [name, values[value]!]));
}
