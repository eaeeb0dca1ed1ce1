import { randomUUID } from 'node:crypto';
import type { Pipeline } from '../../shared/core/config/load-config';
import type { JobConfig } from '../../shared/core/config/types';
import { batchId as batchIdOf, type BatchRef } from '../../shared/core/runs/batches';
import type { ActionRecord } from '../../shared/core/runs/job-run-store';
import { PREFIX } from '../../shared/core/s3/layout';
import { replayPrefix } from '../../shared/core/s3/replay';
import { LandfallError } from '../../shared/core/errors';
import { retryBatch } from '../../shared/stages/resolve';
import type { Target } from '../targets';

export const BATCH_ACTIONS = ['retry', 'replay'] as const;
export type BatchAction = (typeof BATCH_ACTIONS)[number];

/** A replay of a batch that never read a landed file: nothing to re-put. */
export class NothingToReplayError extends LandfallError {
  override readonly name = 'NothingToReplayError';
  readonly code = 'NOTHING_TO_REPLAY';
}

/**
 * An operator's action on a batch, done with the same code as `landfall retry` / `replay`, and
 * recorded (who, what, when, how it ended) beside the batch whatever the outcome: a refused
 * retry (no failed run, a live run) is recorded as refused, an error as failed, then rethrown.
 * Replay re-puts (forced) every landed file the batch's last run read: each runs again.
 */
export async function actOnBatch(
  where: Target,
  pipeline: Pipeline,
  job: JobConfig,
  batch: BatchRef,
  action: BatchAction,
  who: string,
  via = 'console',
): Promise<ActionRecord> {
  const id = batchIdOf(batch, job);
  const record = (outcome: ActionRecord['outcome'], detail: string) =>
    where.runs.recordAction(id, { id: randomUUID(), action, who, at: new Date().toISOString(), via, outcome, detail });
  try {
    const detail = action === 'retry' ? await retry(where, batch) : await replay(where, id);
    return await record('done', detail);
  } catch (err) {
    const refused = err instanceof LandfallError;
    await record(refused ? 'refused' : 'failed', `${(err as Error).name}: ${(err as Error).message}`);
    throw err;
  }

  async function retry(t: Target, b: BatchRef): Promise<string> {
    const outcome = await retryBatch({ ...(await t.resolverDeps()), pipeline }, b);
    return JSON.stringify(outcome);
  }
}

async function replay(where: Target, batchId: string): Promise<string> {
  const runs = await where.runs.runsOf(batchId);
  const last = runs.at(-1);
  const keys = [...new Set(Object.values(last?.inputs ?? {}).flatMap((files) => files.map((f) => f.key)))].filter((k) => k.startsWith(PREFIX.landing));
  if (keys.length === 0) throw new NothingToReplayError(`batch ${batchId} has no run that read landed files: nothing to replay`);
  let count = 0;
  // each key as the prefix (replayPrefix has no exact-key mode: a longer key sharing it is re-put too)
  for (const key of keys) count += await replayPrefix(where.s3, where.names.rawBucket, key.slice(PREFIX.landing.length), { force: true });
  return `re-put ${count} landed file(s) of run ${last!.executionName} (forced): ${keys.join(', ')}`;
}
