import { join } from 'node:path';
import type { DatasetConfig } from '../../core/config/types';
import { openDuckDb } from '../../core/duckdb/duckdb';
import { FileLineSink } from './file-sink';
import { readManifest, summarizeManifest, type ManifestRead } from './manifest-summary';
import type { Verdict } from './verdict';
import { countLines, isReadRefusal, refusal, validateWithDuckDb, type DuckDbVerdict, type Fallback, type LandedCopy } from './validate-duckdb';
import { REJECTS_HEADER, discardLines, validateFileAt, type ValidationOutcome } from './validate-file';

export interface LocalValidation {
  outcome: ValidationOutcome;
  rules: Verdict['rules'];
  /** the rejects report (header first), when there are bad rows */
  rejectsPath?: string;
  /** a manifest dataset's summary (or why the manifest is unusable), for a VALIDATED file */
  manifest?: ManifestRead;
}

/** A landed object on its way here: streamed past the count pass, and copied whole when needed. */
export interface LandedFile extends LandedCopy {
  /** runs `during` over the object's bytes: a pipe they stream through, or the whole file */
  stream<T>(during: (path: string) => Promise<T>): Promise<T>;
}

/**
 * Validates a landed object: DuckDB counts its lines by class as it streams past, then decides from
 * its first lines and, where there are bad lines to report, the whole file (validate-duckdb.ts),
 * unless it hands the file to the JavaScript rules (a file DuckDB cannot read exactly as they do;
 * see Fallback), which then decide. Either way the result says which rules convert must apply to
 * find the same good rows.
 */
export async function validateLandedFile(
  landed: LandedFile,
  dataset: DatasetConfig,
  fields: Record<string, string>,
  settings: { workDir: string; functionMemoryMb: number },
): Promise<LocalValidation> {
  const rejects = new FileLineSink(join(settings.workDir, 'rejects.csv'));
  // DuckDB opens while the object's GET is on its way (the pipe holds the first bytes meanwhile)
  const opening = openDuckDb({ workDir: settings.workDir, functionMemoryMb: settings.functionMemoryMb, preserveOrder: true });
  opening.catch(() => undefined);
  let why: string;
  try {
    let verdict: DuckDbVerdict | Fallback;
    try {
      // (an empty file has nothing to count)
      const counted = landed.size === 0 ? undefined : await landed.stream(async (path) => countLines((await opening).conn, path, dataset, fields));
      const duckdb = await opening;
      await rejects.write(REJECTS_HEADER);
      verdict = await validateWithDuckDb(duckdb.conn, landed, dataset, fields, rejects, counted);
    } catch (err) {
      if (!isReadRefusal(err)) throw err;
      verdict = { kind: 'fallback', why: refusal(err) };
    }
    if (verdict.kind === 'decided') {
      await rejects.close();
      const rules: Verdict['rules'] = {
        engine: 'duckdb',
        skipLines: verdict.skipLines,
        ...(verdict.allGood ? { allGood: true as const } : {}),
        ...(verdict.canonicalJson ? { canonicalJson: true as const } : {}),
      };
      const result: LocalValidation = { outcome: verdict.outcome, rules };
      if (verdict.outcome.rows.rejected > 0) result.rejectsPath = rejects.path;
      if (dataset.manifest && verdict.outcome.state === 'VALIDATED')
        result.manifest = summarizeManifest(await verdict.goodValues!(dataset.manifest.column), dataset);
      return result;
    }
    why = verdict.why;
  } finally {
    await opening.then(
      (duckdb) => duckdb.close(),
      () => undefined,
    );
    await rejects.close();
  }
  return validateInJavaScript(await landed.whole(), dataset, fields, settings.workDir, why);
}

async function validateInJavaScript(
  path: string,
  dataset: DatasetConfig,
  fields: Record<string, string>,
  workDir: string,
  why: string,
): Promise<LocalValidation> {
  const rejects = new FileLineSink(join(workDir, 'rejects-js.csv'));
  const good = dataset.manifest ? new FileLineSink(join(workDir, 'good.csv')) : undefined;
  let outcome: ValidationOutcome;
  try {
    // the good rows are wanted only for a manifest
    outcome = await validateFileAt(path, dataset, fields, { good: good ?? discardLines, rejects });
  } finally {
    await Promise.all([rejects.close(), good?.close()]);
  }
  const result: LocalValidation = { outcome, rules: { engine: 'javascript', why } };
  if (outcome.rows.rejected > 0) result.rejectsPath = rejects.path;
  if (good && outcome.state === 'VALIDATED') result.manifest = await readManifest(good.path, dataset);
  return result;
}
