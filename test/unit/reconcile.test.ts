import { describe, expect, it } from 'vitest';
import { compilePipeline, resolveLandingKey } from '../../shared/core/config/load-config';
import { retailConfig } from '../../examples/retail/config';
const pipelineConfig = retailConfig();
import { parsePipelineConfig } from '../../shared/core/config/parse-config';
import { objectRefFromRecord } from '../../shared/core/s3/event-records';
import { metricsLine } from '../../shared/core/alerts';
import { datesPastDeadline, deadlineOf, expectedBatches, zonedInstant } from '../../shared/core/runs/deadlines';
import { s3EventFor } from '../../shared/stages/reconcile/s3-event';
import { logLocationOf, parseCause } from '../../shared/stages/orchestrate/failure-report';
import { attemptOf } from '../../shared/core/runs/batches';

describe('freshness deadlines', () => {
  it('turns a local wall-clock time into the right UTC instant, across daylight saving time', () => {
    expect(zonedInstant('2026-11-23', '18:00', 'America/Toronto').toISOString()).toBe('2026-11-23T23:00:00.000Z'); // EST, UTC-5
    expect(zonedInstant('2026-07-01', '18:00', 'America/Toronto').toISOString()).toBe('2026-07-01T22:00:00.000Z'); // EDT, UTC-4
    expect(zonedInstant('2026-03-08', '06:00', 'America/Toronto').toISOString()).toBe('2026-03-08T10:00:00.000Z'); // the morning DST starts
    expect(zonedInstant('2026-11-23', '09:30', 'Asia/Kolkata').toISOString()).toBe('2026-11-23T04:00:00.000Z');
    expect(deadlineOf({ deadline: '06:00', timeZone: 'UTC', dayOffset: 1 }, '2026-11-23').toISOString()).toBe('2026-11-24T06:00:00.000Z');
  });

  it('lists the business dates whose deadline passed recently, and the batches expected for one', () => {
    const freshness = { deadline: '18:00', timeZone: 'America/Toronto' };
    expect(datesPastDeadline(freshness, new Date('2026-11-23T22:59:00Z')).map((d) => d.date)).toEqual(['2026-11-21', '2026-11-22']);
    expect(datesPastDeadline(freshness, new Date('2026-11-23T23:00:00Z')).map((d) => d.date)).toEqual(['2026-11-22', '2026-11-23']);
    const job = pipelineConfig.jobs.find((j) => j.name === 'pos_daily_sales')!;
    expect(expectedBatches(compilePipeline(pipelineConfig), job, '2026-11-23').map((b) => b.values)).toEqual([
      { province: 'ON', date: '2026-11-23' },
      { province: 'QC', date: '2026-11-23' },
      { province: 'BC', date: '2026-11-23' },
    ]);
  });

  it('validates a freshness declaration, naming the field', () => {
    const bad = (freshness: unknown) => {
      const raw = structuredClone(pipelineConfig) as unknown as { jobs: Array<Record<string, unknown>> };
      raw.jobs[0]!.freshness = freshness;
      return () => parsePipelineConfig(raw);
    };
    expect(bad({ deadline: '25:00', timeZone: 'UTC' })).toThrow(/jobs\[0\]\.freshness\.deadline: "25:00" is not a local time HH:MM/);
    expect(bad({ deadline: '18:00', timeZone: 'Mars/Olympus' })).toThrow(/jobs\[0\]\.freshness\.timeZone: "Mars\/Olympus" is not an IANA time zone/);
    expect(bad({ deadline: '18:00', timeZone: 'UTC', later: true })).toThrow(/jobs\[0\]\.freshness\.later: unknown field/);
    // canonical names, UTC, and aliases that are not among the canonical names
    for (const timeZone of ['America/Toronto', 'UTC', 'Etc/UTC', 'US/Eastern', 'Asia/Calcutta']) expect(bad({ deadline: '18:00', timeZone })).not.toThrow();
    expect(bad({ deadline: '18:00', timeZone: 'America/Torontoo' })).toThrow(/is not an IANA time zone/);
  });
});

describe('known members', () => {
  const pipeline = compilePipeline(pipelineConfig);
  it('rejects a file of a store the province does not have, with a reason', () => {
    expect(resolveLandingKey(pipeline, 'pos/ON/ON05_20261123_200000.tdf')).toMatchObject({ kind: 'matched' });
    expect(resolveLandingKey(pipeline, 'pos/ON/ON06_20261123_200000.tdf')).toMatchObject({
      kind: 'rejected',
      reason: 'unknown store "ON06" for province ON (known: ON01, ON02, ON03, ON04, ON05)',
    });
    expect(resolveLandingKey(pipeline, 'pos/ON/QC01_20261123_200000.tdf')).toMatchObject({
      kind: 'rejected',
      reason: expect.stringMatching(/unknown store "QC01" for province ON/),
    });
  });
});

describe('re-drive events', () => {
  it('synthesises an S3 record that decodes back to the same object version', () => {
    const ref = {
      bucket: 'raw',
      key: 'landing/notes from head office +1.txt',
      versionId: 'v 1',
      eTag: 'abc',
      size: 12,
      sequencer: '00AB',
      eventTime: '2026-11-23T10:00:00.000Z',
    };
    expect(objectRefFromRecord(s3EventFor(ref).Records[0]!)).toEqual(ref);
    expect(objectRefFromRecord(s3EventFor({ bucket: 'raw', key: 'reports/a.json' }, new Date('2026-11-23T00:00:00Z')).Records[0]!)).toEqual({
      bucket: 'raw',
      key: 'reports/a.json',
      eTag: '',
      size: 0,
      sequencer: '',
      eventTime: '2026-11-23T00:00:00.000Z',
    });
  });

  it('writes metrics in CloudWatch embedded metric format', () => {
    const line = JSON.parse(metricsLine('dev', { Repairs: 3, BatchesPastDeadline: 0 }, new Date(1_000)));
    expect(line).toEqual({
      _aws: {
        Timestamp: 1000,
        CloudWatchMetrics: [
          {
            Namespace: 'landfall',
            Dimensions: [['Stage']],
            Metrics: [
              { Name: 'Repairs', Unit: 'Count' },
              { Name: 'BatchesPastDeadline', Unit: 'Count' },
            ],
          },
        ],
      },
      Stage: 'dev',
      Repairs: 3,
      BatchesPastDeadline: 0,
    });
  });
});

describe('failure reports', () => {
  it('reads a Lambda cause, an EMR log location and the attempt', () => {
    expect(parseCause(JSON.stringify({ errorType: 'Error', errorMessage: 'boom', trace: ['Error: boom', '  at x'] }))).toEqual({
      message: 'boom',
      trace: ['Error: boom', '  at x'],
    });
    expect(parseCause('plain words')).toEqual({ message: 'plain words' });
    expect(logLocationOf('EMR step s-1 on cluster j-1 failed (Unknown Error.): exit 1 (log: s3://lake/emr-logs/j-1/steps/s-1/stderr.gz)')).toBe(
      's3://lake/emr-logs/j-1/steps/s-1/stderr.gz',
    );
    expect(logLocationOf('no log here')).toBeUndefined();
    expect(attemptOf('pos_daily_sales-ON-2026-11-23-abcdef012345')).toBe(1);
    expect(attemptOf('pos_daily_sales-ON-2026-11-23-abcdef012345-r2')).toBe(3);
  });
});
