import { readFile } from 'node:fs/promises';
import type { DatasetConfig } from '../../core/config/types';
import { splitFields } from './delimited';

/** A manifest names at most this many parts: the list is kept with the file's state (one item). */
export const MAX_MANIFEST_PARTS = 10_000;

export type ManifestRead = { summary: { parts: string[] } | { count: number } } | { problem: string };

/**
 * What a manifest file says, from its good rows as CSV (the JavaScript validation wrote them, header first):
 * the parts its rows list, or the count its one row holds.
 */
export async function readManifest(goodCsvPath: string, dataset: DatasetConfig): Promise<ManifestRead> {
  const manifest = dataset.manifest!;
  const lines = (await readFile(goodCsvPath, 'utf8')).split('\n').filter((l) => l !== '');
  const header = splitFields(lines[0] ?? '', ',');
  const column = Array.isArray(header) ? header.indexOf(manifest.column) : -1;
  const values: string[] = [];
  for (const line of lines.slice(1)) {
    const fields = splitFields(line, ',');
    if (Array.isArray(fields) && fields[column] !== undefined) values.push(fields[column]);
  }
  return summarizeManifest(values, dataset);
}

/**
 * A manifest's summary from its manifest column's values in its good rows, in file order. A
 * manifest that says nothing usable is a problem: the file is rejected, and its batch keeps
 * waiting for a good one.
 */
export function summarizeManifest(values: string[], dataset: DatasetConfig): ManifestRead {
  const manifest = dataset.manifest!;
  if (manifest.kind === 'counts') {
    if (values.length !== 1) return { problem: `a counting manifest has exactly one row with ${manifest.column}; this one has ${values.length} good rows` };
    const count = Number(values[0]);
    // an integer column lets "-1" through, and a batch with no parts would meet a negative count
    if (count < 0) return { problem: `the manifest counts ${values[0]} parts; a count cannot be negative` };
    return { summary: { count } };
  }
  const parts = [...new Set(values)];
  if (parts.length === 0) return { problem: 'the manifest lists no parts' };
  if (parts.length > MAX_MANIFEST_PARTS) return { problem: `the manifest lists ${parts.length} parts; at most ${MAX_MANIFEST_PARTS} are supported` };
  return { summary: { parts } };
}
