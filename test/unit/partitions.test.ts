import { describe, expect, it } from 'vitest';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { JobConfig } from '../../shared/core/config/types';
import type { RunInput } from '../../shared/core/runs/run-input';
import { compareSequencers } from '../../shared/core/s3/event-records';
import { ObjectGoneError } from '../../shared/core/s3/object-io';
import type { FileState, SourceVersion, TransitionDetails } from '../../shared/core/state/file-state';
import type { FileStateStore } from '../../shared/core/state/file-state-store';
import { recordPartition } from '../../shared/stages/orchestrate/partitions';

/* A successful run's partition, recorded as a CONVERTED version for the jobs that read it (plain fakes). */

const job = {
  name: 'pos_daily_sales',
  dateField: 'date',
  output: { table: 'daily_sales', partitionBy: ['province', 'date'], key: ['store_id'] },
} as unknown as JobConfig;
const run = (values: Record<string, string>): RunInput => ({
  job: job.name,
  batchId: 'b',
  values,
  executionName: 'pos_daily_sales-ON-2026-11-23-abcdef012345',
  fingerprint: 'f',
  inputs: {},
  engine: 'duckdb',
  stages: [{ name: 'aggregate' }],
});
const NOW = new Date('2026-11-23T12:00:00.000Z');

function world(head: { Metadata?: Record<string, string>; VersionId?: string } | 'gone') {
  const heads: string[] = [];
  const transitions: Array<{ source: SourceVersion; state: FileState; details: TransitionDetails; now: Date }> = [];
  const s3 = {
    send: async (command: unknown) => {
      if (!(command instanceof HeadObjectCommand)) throw new Error(`unexpected ${String(command)}`);
      heads.push(`${command.input.Bucket}/${command.input.Key}`);
      if (head === 'gone') throw Object.assign(new Error('Not Found'), { name: 'NotFound' });
      return { ContentLength: 2048, ETag: '"pe"', ...head };
    },
  } as unknown as S3Client;
  const files = {
    recordTransition: async (source: SourceVersion, state: FileState, details: TransitionDetails, now: Date) => {
      transitions.push({ source, state, details, now });
      return 'applied';
    },
  } as unknown as FileStateStore;
  return { deps: { s3, files, lakeBucket: 'lake' }, heads, transitions };
}

describe("recording a run's partition", () => {
  it("records the curated object as a CONVERTED version tracked under the job's name", async () => {
    const { deps, heads, transitions } = world({ Metadata: { 'landfall-rows': '42' }, VersionId: 'pv1' });
    const key = 'curated/daily_sales/province=ON/date=2026-11-23/data.parquet';
    expect(await recordPartition(run({ province: 'ON', date: '2026-11-23' }), job, deps, NOW)).toEqual({ key, versionId: 'pv1' });
    expect(heads).toEqual([`lake/${key}`]);
    expect(transitions).toEqual([
      {
        source: {
          bucket: 'lake',
          key,
          versionId: 'pv1',
          eTag: '"pe"',
          size: 2048,
          sequencer: NOW.getTime().toString(16).padStart(16, '0'),
          eventTime: NOW.toISOString(),
        },
        state: 'CONVERTED',
        details: {
          dataset: 'pos_daily_sales',
          fields: { province: 'ON', date: '2026-11-23' },
          date: '2026-11-23',
          processedVersionId: 'pv1',
          parquetRows: 42,
          reason: 'written by pos_daily_sales-ON-2026-11-23-abcdef012345',
          outputs: { processed: key },
        },
        now: NOW,
      },
    ]);
  });

  it("gives a later run's version a larger sequencer, as S3 would", async () => {
    const first = world({ VersionId: 'pv1' });
    const second = world({ VersionId: 'pv2' });
    await recordPartition(run({ province: 'ON', date: '2026-11-23' }), job, first.deps, NOW);
    await recordPartition(run({ province: 'ON', date: '2026-11-23' }), job, second.deps, new Date(NOW.getTime() + 1));
    expect(compareSequencers(first.transitions[0]!.source.sequencer, second.transitions[0]!.source.sequencer)).toBeLessThan(0);
  });

  it('names no version in an unversioned bucket, and leaves out a row count it cannot read', async () => {
    for (const rows of [undefined, '', '4.5', '-1', 'many']) {
      const { deps, transitions } = world(rows === undefined ? {} : { Metadata: { 'landfall-rows': rows } });
      expect(await recordPartition(run({ province: 'ON', date: '2026-11-23' }), job, deps, NOW)).toEqual({
        key: 'curated/daily_sales/province=ON/date=2026-11-23/data.parquet',
      });
      expect(transitions[0]!.source).not.toHaveProperty('versionId');
      expect(transitions[0]!.details).not.toHaveProperty('processedVersionId');
      expect(transitions[0]!.details).not.toHaveProperty('parquetRows');
    }
  });

  it('escapes partition values in the key', async () => {
    const { deps } = world({});
    expect((await recordPartition(run({ province: 'A/B=C', date: '2026-11-23' }), job, deps, NOW)).key).toBe(
      'curated/daily_sales/province=A%2FB%3DC/date=2026-11-23/data.parquet',
    );
  });

  it('fails with ObjectGoneError when the run wrote no partition, recording nothing', async () => {
    const { deps, transitions } = world('gone');
    await expect(recordPartition(run({ province: 'ON', date: '2026-11-23' }), job, deps, NOW)).rejects.toBeInstanceOf(ObjectGoneError);
    expect(transitions).toEqual([]);
  });
});
