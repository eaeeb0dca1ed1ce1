import type { FileStateItem } from '../../shared/core/state/file-state-store';
import type { ExpectedFile } from '../sample-contract';
import { PREFIX } from '../../shared/core/s3/layout';
import { newestPerKey } from '../../shared/core/s3/event-records';
import { formatTable } from '../terminal';

/** The newest recorded version of each key (a key landed twice shows its latest state). */
export function latestPerKey(items: FileStateItem[]): FileStateItem[] {
  return newestPerKey(items).sort((a, b) => a.key.localeCompare(b.key));
}

export function fileStateTable(items: FileStateItem[]): string {
  const rows = items.map((i) => [
    i.key.startsWith(PREFIX.landing) ? i.key.slice(PREFIX.landing.length) : i.key,
    i.state,
    i.rows ? String(i.rows.in) : '',
    i.rows ? String(i.rows.out) : '',
    i.rows ? String(i.rows.rejected) : '',
    i.rows ? String(i.rows.junk) : '',
    i.rows?.truncated ? String(i.rows.truncated) : '',
    i.parquetRows !== undefined ? String(i.parquetRows) : '',
    (i.reason ?? (i.archive ? `from ${i.archive.key.replace(PREFIX.landing, '')} version ${i.archive.versionId}` : '')).slice(0, 70),
  ]);
  return formatTable([['file', 'state', 'rows in', 'out', 'rejected', 'junk', 'cut', 'parquet', 'reason'], ...rows]);
}

export function stateCounts(items: FileStateItem[]): string {
  const counts = new Map<string, number>();
  for (const i of items) counts.set(i.state, (counts.get(i.state) ?? 0) + 1);
  return [...counts.entries()].map(([s, n]) => `${n} ${s}`).join(', ');
}

/** Differences between what the sample says each file must become and what was recorded. */
export function compareWithExpected(items: FileStateItem[], expected: ExpectedFile[]): string[] {
  const byKey = new Map(latestPerKey(items).map((i) => [i.key, i]));
  const problems: string[] = [];
  for (const file of expected) {
    const item = byKey.get(`${PREFIX.landing}${file.key}`);
    if (!item) {
      problems.push(`${file.key}: no file state recorded (expected ${file.state})`);
      continue;
    }
    if (item.state !== file.state) problems.push(`${file.key}: ${item.state}, expected ${file.state}${item.reason ? ` (${item.reason})` : ''}`);
    if (file.reason && !(item.reason ?? '').includes(file.reason)) problems.push(`${file.key}: reason "${item.reason}" lacks "${file.reason}"`);
    if (file.rows && JSON.stringify(sortKeys(item.rows ?? {})) !== JSON.stringify(sortKeys(file.rows))) {
      problems.push(`${file.key}: rows ${JSON.stringify(item.rows)}, expected ${JSON.stringify(file.rows)}`);
    }
  }
  return problems;
}

const sortKeys = (o: object) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
