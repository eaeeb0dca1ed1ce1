import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CreateBucketCommand, ListObjectVersionsCommand, PutBucketVersioningCommand, type S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadPipeline } from '../shared/core/config/load-config';
import { convertValidatedObject, type ConvertResult } from '../shared/stages/convert/convert-object';
import type { ObjectRef } from '../shared/core/s3/event-records';
import { PREFIX, processedKey } from '../shared/core/s3/layout';
import { downloadToFile, headObject } from '../shared/core/s3/object-io';
import { POS_HEADER } from '../examples/retail/data/pos-sample';
import { parseLineage } from '../shared/core/state/lineage';
import { stackClients } from '../local/stack';
import { encodeKeyAsAws } from '../local/s3-notifications';
import { landAndSettle, useLocalStack } from './support/local-stack';

/*
 * processed/ never goes back in time: the Parquet of a landed key always comes from its newest
 * landed version, whatever order the converts of its versions run or finish in.
 */

const stack = useLocalStack();

const posBody = (store: string, amounts: string[]) => `${POS_HEADER}\n${amounts.map((a, i) => `${store}\tI000${i + 1}\t2026-11-24\t4\t${a}`).join('\n')}\n`;

/** The validated CSV's S3 version that was written for one landed version (its lineage names it). */
async function validatedVersionOf(relativeKey: string, landedVersionId: string): Promise<ObjectRef> {
  const bucket = stack().deployment.names.rawBucket;
  const key = `${PREFIX.validated}${relativeKey}`;
  const { Versions = [] } = await stack().s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
  for (const v of Versions.filter((x) => x.Key === key)) {
    const { metadata } = await headObject(stack().s3, bucket, key, v.VersionId);
    if (parseLineage(metadata).source.versionId === landedVersionId) {
      return { bucket, key, versionId: v.VersionId!, eTag: v.ETag!.replaceAll('"', ''), size: v.Size ?? 0, sequencer: '', eventTime: new Date().toISOString() };
    }
  }
  throw new Error(`no validated version of ${relativeKey} for landed version ${landedVersionId}`);
}

/** Lands two versions of one key (v2 with other bytes), each settled, with their validated CSVs. */
async function landTwoVersions(relativeKey: string, store: string) {
  const v1 = await landAndSettle(stack(), relativeKey, posBody(store, ['1.00', '2.00']));
  const v2 = await landAndSettle(stack(), relativeKey, posBody(store, ['10.00', '20.00', '30.00']));
  return { v1, v2, validated1: await validatedVersionOf(relativeKey, v1), validated2: await validatedVersionOf(relativeKey, v2) };
}

/** The current Parquet at `key`: the landed version its lineage names, and its rows. */
async function currentParquet(bucket: string, key: string): Promise<{ sourceVersionId: string | undefined; rows: Array<Record<string, unknown>> }> {
  const { metadata } = await headObject(stack().s3, bucket, key);
  const path = join(await mkdtemp(join(tmpdir(), 'landfall-order-')), 'f.parquet');
  await downloadToFile(stack().s3, bucket, key, undefined, path);
  const conn = await (await DuckDBInstance.create(':memory:')).connect();
  const rows = (await conn.runAndReadAll('SELECT amount, source_version_id FROM read_parquet($1) ORDER BY amount', [path])).getRowObjectsJson() as Array<
    Record<string, unknown>
  >;
  conn.closeSync();
  return { sourceVersionId: parseLineage(metadata).source.versionId, rows };
}

async function versionsAt(bucket: string, key: string): Promise<string[]> {
  const { Versions = [] } = await stack().s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
  return Versions.filter((v) => v.Key === key).map((v) => v.VersionId!);
}

/** A versioned bucket of its own (no notifications), so converts can race on an empty key. */
async function freshLakeBucket(name: string): Promise<string> {
  const bucket = `${stack().deployment.names.lakeBucket}-${name}`;
  await stack().s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await stack().s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  return bucket;
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * A new S3 client (unmodified SDK) whose final upload to `bucket` (a PutObject, or the
 * CompleteMultipartUpload of a large file) first calls `hold`: the test decides when it goes on.
 */
function clientHoldingUploads(bucket: string, hold: (input: { IfMatch?: string; IfNoneMatch?: string }) => Promise<void>): S3Client {
  const { s3 } = stackClients(stack().endpoints);
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Bucket?: string; IfMatch?: string; IfNoneMatch?: string };
      if ((context.commandName === 'PutObjectCommand' || context.commandName === 'CompleteMultipartUploadCommand') && input.Bucket === bucket)
        await hold(input);
      return next(args);
    },
    { step: 'initialize', name: 'holdUpload' },
  );
  return s3;
}

const convertDeps = (s3: S3Client, lakeBucket: string) => ({ s3, pipeline: loadPipeline(), lakeBucket, functionMemoryMb: 1024 });

describe('processed/ never goes back in time', () => {
  it('a late convert event for an older landed version leaves the newer Parquet in place (superseded)', async () => {
    const relative = 'pos/ON/ON04_20261124_090000.tdf';
    const { v1, v2, validated1 } = await landTwoVersions(relative, 'ON04');
    const lake = stack().deployment.names.lakeBucket;
    const key = processedKey('pos', '2026-11-24', [['province', 'ON']], relative);
    expect(await stack().fileStates.get(`${PREFIX.landing}${relative}`, v1)).toMatchObject({ state: 'CONVERTED', parquetRows: 2 });
    expect(await stack().fileStates.get(`${PREFIX.landing}${relative}`, v2)).toMatchObject({ state: 'CONVERTED', parquetRows: 3 });
    const before = await versionsAt(lake, key);
    expect(before).toHaveLength(2);
    expect((await currentParquet(lake, key)).sourceVersionId).toBe(v2);

    // The late event: the S3 notification of v1's validated CSV, delivered again, to the real handler.
    const event = {
      Records: [
        {
          eventVersion: '2.1',
          eventSource: 'aws:s3',
          awsRegion: 'us-east-1',
          eventTime: new Date().toISOString(),
          eventName: 'ObjectCreated:Put',
          s3: {
            s3SchemaVersion: '1.0',
            bucket: { name: validated1.bucket },
            object: {
              key: encodeKeyAsAws(validated1.key),
              size: validated1.size,
              eTag: validated1.eTag,
              versionId: validated1.versionId,
              sequencer: 'FFFFFFFFFFFFFFFF',
            },
          },
        },
      ],
    };
    const out = (await stack().lambdas.invoke('convert', event)) as { results: ConvertResult[] };
    await stack().settled(400);
    expect(out.results).toEqual([{ kind: 'superseded', key, by: v2 }]);
    expect(stack().lambdas.failures).toEqual([]);
    // nothing was written: the current Parquet is still v2's, lineage and rows
    expect(await versionsAt(lake, key)).toEqual(before);
    expect(await currentParquet(lake, key)).toEqual({
      sourceVersionId: v2,
      rows: [
        { amount: '10.00', source_version_id: v2 },
        { amount: '20.00', source_version_id: v2 },
        { amount: '30.00', source_version_id: v2 },
      ],
    });
    expect(await stack().fileStates.get(`${PREFIX.landing}${relative}`, v2)).toMatchObject({ state: 'CONVERTED', parquetRows: 3 });
  });

  it('two converts racing: the older version uploading last does not replace the newer one', async () => {
    const relative = 'pos/QC/QC02_20261124_090000.tdf';
    const { v2, validated1, validated2 } = await landTwoVersions(relative, 'QC02');
    const bucket = await freshLakeBucket('race');
    const key = processedKey('pos', '2026-11-24', [['province', 'QC']], relative);
    // Both converts look at the empty key first; the newer uploads only once the older one is at
    // its upload, and the older one's upload goes on only after the newer finished: it uploads last.
    const olderAtUpload = deferred();
    const newerDone = deferred();
    const olderUploads: Array<{ IfMatch?: string; IfNoneMatch?: string }> = [];
    const older = clientHoldingUploads(bucket, async (input) => {
      olderUploads.push({ ...(input.IfMatch ? { IfMatch: input.IfMatch } : {}), ...(input.IfNoneMatch ? { IfNoneMatch: input.IfNoneMatch } : {}) });
      olderAtUpload.resolve();
      await newerDone.promise;
    });
    const newer = clientHoldingUploads(bucket, () => olderAtUpload.promise);
    const [olderResult, newerResult] = await Promise.all([
      // (finally: should the older one fail before its upload, the newer one is not held forever)
      convertValidatedObject(validated1, convertDeps(older, bucket)).finally(() => olderAtUpload.resolve()),
      convertValidatedObject(validated2, convertDeps(newer, bucket)).finally(() => newerDone.resolve()),
    ]);
    expect(newerResult).toEqual({ kind: 'converted', key, rows: 3 });
    expect(olderResult).toEqual({ kind: 'superseded', key, by: v2 });
    // the older one did try, conditionally on the key being empty, and lost
    expect(olderUploads).toEqual([{ IfNoneMatch: '*' }]);
    expect(await versionsAt(bucket, key)).toHaveLength(1);
    expect((await currentParquet(bucket, key)).sourceVersionId).toBe(v2);
  });

  it('two converts of the same version racing (a redelivery) write the Parquet once', async () => {
    const relative = 'pos/BC/BC01_20261124_090000.tdf';
    const version = await landAndSettle(stack(), relative, posBody('BC01', ['5.00', '6.00']));
    const validated = await validatedVersionOf(relative, version);
    const bucket = await freshLakeBucket('redelivery');
    const key = processedKey('pos', '2026-11-24', [['province', 'BC']], relative);
    // Both reach their upload having seen an empty key; then both go.
    let arrived = 0;
    const bothThere = deferred();
    const s3 = clientHoldingUploads(bucket, async () => {
      arrived += 1;
      if (arrived === 2) bothThere.resolve();
      await bothThere.promise;
    });
    const results = await Promise.all([convertValidatedObject(validated, convertDeps(s3, bucket)), convertValidatedObject(validated, convertDeps(s3, bucket))]);
    expect(results.map((r) => r.kind).sort()).toEqual(['already-converted', 'converted']);
    expect(await versionsAt(bucket, key)).toHaveLength(1);
    expect((await currentParquet(bucket, key)).sourceVersionId).toBe(version);
  });
});
