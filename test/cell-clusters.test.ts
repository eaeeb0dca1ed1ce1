import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { EMRClient, TerminateJobFlowsCommand } from '@aws-sdk/client-emr';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CellClaims } from '../shared/core/emr/cell-claims';
import { acquireCellCluster, checkProvisioning, standingCellCluster, type Acquisition } from '../shared/core/emr/cell-clusters';
import type { ClusterSpec, EmrCell } from '../shared/core/emr/cluster-spec';
import { ClusterUnhealthyError } from '../shared/core/emr/emr-steps';
import { startLocalEmr, type LocalEmr } from '../local/emr';
import { startDynamoDbLocal, type RunningServer } from '../local/servers';

/*
 * Which cluster a heavy run uses in a cell, against DynamoDB Local (the claim) and the local EMR
 * (RunJobFlow, tags, lifecycle) through the unmodified SDK clients.
 */
const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };
const region = 'us-east-1';
const CELLS: EmrCell[] = [
  { name: 'cell-a', availabilityZone: 'us-east-1a', subnetId: 'subnet-a', routingControlArn: 'arn:rc/a' },
  { name: 'cell-b', availabilityZone: 'us-east-1b', subnetId: 'subnet-b', routingControlArn: 'arn:rc/b' },
];
const [A, B] = CELLS as [EmrCell, EmrCell];
const spec: ClusterSpec = {
  stack: 'landfall-test',
  releaseLabel: 'emr-7.13.0',
  logUri: 's3://lake/emr-logs/',
  serviceRole: 'svc',
  jobFlowRole: 'profile',
  idleTimeoutSeconds: 60,
  provisionTimeoutMinutes: 45,
  primary: { instanceTypes: ['m7g.xlarge'], capacity: 1 },
  core: { instanceTypes: ['m7g.xlarge'], capacity: 2 },
  task: { instanceTypes: ['m7g.xlarge'], capacity: 2 },
};

let workDir: string;
let ddb: RunningServer;
let emrServer: LocalEmr;
let emr: EMRClient;
let db: DynamoDBDocumentClient;
let tables = 0;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'landfall-cells-'));
  ddb = await startDynamoDbLocal(workDir);
  db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: ddb.endpoint, region, credentials }));
  emrServer = await startLocalEmr({
    clusters: [{ id: 'j-STANDING', name: 'standing-a' }],
    subnets: { 'subnet-a': 'us-east-1a', 'subnet-b': 'us-east-1b' },
    s3: new S3Client({ region, credentials, endpoint: 'http://127.0.0.1:9' }),
    provisioningDelayMs: 100,
    idleTimeoutScaleMs: 1000,
    runStep: async () => undefined,
  });
  emr = new EMRClient({ endpoint: emrServer.endpoint, region, credentials, maxAttempts: 1 });
}, 120_000);

afterAll(async () => {
  await emrServer?.stop();
  await ddb?.process.stop();
  await rm(workDir, { recursive: true, force: true });
});

/** A fresh claims table per test, so that generations start at 1. */
async function claims(): Promise<CellClaims> {
  const table = `job-runs-${++tables}`;
  await db.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  );
  return new CellClaims(db, table);
}

/** Ends every cluster a test created, so the next one starts with none up. */
async function endAll() {
  const up = emrServer.clusters().filter((c) => c.created && !c.state.startsWith('TERMINATED'));
  if (up.length > 0) await emr.send(new TerminateJobFlowsCommand({ JobFlowIds: up.map((c) => c.id) }));
  await emrServer.allEnded(10_000);
}

const created = () => emrServer.clusters().filter((c) => c.created);
const idOf = (a: Acquisition) => ('clusterId' in a ? a.clusterId : undefined);

describe("a cell's transient cluster", () => {
  it("is created once, in the cell's subnet with its tags, then found by its tags", async () => {
    const store = await claims();
    const before = created().length;
    const first = await acquireCellCluster({ emr, claims: store, spec }, A, 'run-1');
    expect(first).toMatchObject({ created: true });
    const cluster = created().at(-1)!;
    expect(cluster).toMatchObject({
      id: idOf(first),
      subnetId: 'subnet-a',
      availabilityZone: 'us-east-1a',
      tags: { 'landfall:stack': 'landfall-test', 'landfall:cell': 'cell-a', 'landfall:claim': '1' },
    });
    expect(await store.get('cell-a')).toMatchObject({ generation: 1, status: 'ACTIVE', clusterId: idOf(first), owner: 'run-1' });
    // another run, while it still starts, and once it is up: the same cluster, nothing created
    expect(await acquireCellCluster({ emr, claims: store, spec }, A, 'run-2')).toEqual({ clusterId: idOf(first), created: false });
    await new Promise((r) => setTimeout(r, 300));
    expect(await acquireCellCluster({ emr, claims: store, spec }, A, 'run-3')).toEqual({ clusterId: idOf(first), created: false });
    // the other cell has none of its own yet
    expect(await acquireCellCluster({ emr, claims: store, spec }, B, 'run-4')).toMatchObject({ created: true });
    expect(created().length - before).toBe(2);
    await endAll();
  });

  it('is created exactly once for 8 concurrent runs: one claim wins, the others wait, then find it', async () => {
    const store = await claims();
    const before = created().length;
    const first = await Promise.all(Array.from({ length: 8 }, (_, i) => acquireCellCluster({ emr, claims: store, spec, waitSeconds: 1 }, A, `run-${i}`)));
    expect(created().length - before).toBe(1);
    const made = first.filter((a) => 'created' in a && a.created);
    expect(made).toHaveLength(1);
    const id = idOf(made[0]!)!;
    // the losers either saw the winner's cluster already or were told to wait
    for (const a of first) expect('waitSeconds' in a ? a.waitSeconds : idOf(a)).toEqual('waitSeconds' in a ? 1 : id);
    const again = await Promise.all(Array.from({ length: 8 }, (_, i) => acquireCellCluster({ emr, claims: store, spec }, A, `run-${i}`)));
    expect(new Set(again.map(idOf))).toEqual(new Set([id]));
    expect(created().length - before).toBe(1);
    await endAll();
  });

  it('is created anew, under the next claim, once the last one ended', async () => {
    const store = await claims();
    const first = idOf(await acquireCellCluster({ emr, claims: store, spec }, A, 'run-1'))!;
    await emr.send(new TerminateJobFlowsCommand({ JobFlowIds: [first] }));
    await emrServer.allEnded(10_000);
    const second = await acquireCellCluster({ emr, claims: store, spec }, A, 'run-2');
    expect(second).toMatchObject({ created: true });
    expect(idOf(second)).not.toBe(first);
    expect(created().find((c) => c.id === idOf(second))!.tags['landfall:claim']).toBe('2');
    await endAll();
  });

  it('fails over (ClusterUnhealthyError CREATE_FAILED) when RunJobFlow refuses, and records why on the claim', async () => {
    const store = await claims();
    const nowhere: EmrCell = { ...A, subnetId: 'subnet-gone' };
    const err = await acquireCellCluster({ emr, claims: store, spec }, nowhere, 'run-1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClusterUnhealthyError);
    expect(err).toMatchObject({ reason: 'CREATE_FAILED', detail: expect.stringContaining('subnet-gone') });
    expect(await store.get('cell-a')).toMatchObject({ generation: 1, status: 'FAILED', reason: expect.stringContaining('ValidationException') });
    // the next attempt claims again (generation 2) rather than waiting on a dead claim
    expect(await acquireCellCluster({ emr, claims: store, spec }, A, 'run-2')).toMatchObject({ created: true });
    expect(await store.get('cell-a')).toMatchObject({ generation: 2, status: 'ACTIVE' });
    await endAll();
  });

  it('waits on a claim still CREATING, and takes it over once it is older than the grace (its owner died before RunJobFlow)', async () => {
    const store = await claims();
    const t0 = new Date();
    expect(await store.claimNext('cell-a', 0, 'crashed-run', t0)).toMatchObject({ generation: 1 });
    expect(await acquireCellCluster({ emr, claims: store, spec, now: () => new Date(t0.getTime() + 60_000) }, A, 'run-2')).toEqual({
      waitSeconds: 30,
      reason: expect.stringContaining('crashed-run is creating'),
    });
    const later = await acquireCellCluster({ emr, claims: store, spec, now: () => new Date(t0.getTime() + 181_000) }, A, 'run-2');
    expect(later).toMatchObject({ created: true });
    expect(await store.get('cell-a')).toMatchObject({ generation: 2, owner: 'run-2', status: 'ACTIVE' });
    await endAll();
  });

  it('is given up when still provisioning past the limit: terminated, and the run fails over', async () => {
    const store = await claims();
    const id = idOf(await acquireCellCluster({ emr, claims: store, spec }, A, 'run-1'))!;
    // right after creation it is STARTING: fine within the limit
    await checkProvisioning(emr, id, 45, new Date());
    const err = await checkProvisioning(emr, id, 45, new Date(Date.now() + 46 * 60_000)).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'ClusterUnhealthyError', reason: 'PROVISIONING_TIMEOUT' });
    await emrServer.allEnded(10_000);
    expect(created().find((c) => c.id === id)).toMatchObject({ state: 'TERMINATED', reason: { code: 'USER_REQUEST' } });
  });
});

describe("a cell's standing cluster", () => {
  it('is the configured one while it can run steps; one that ended is unhealthy (fail over), not replaced', async () => {
    const cell = { ...A, clusterId: 'j-STANDING' };
    expect(await standingCellCluster(emr, cell)).toEqual({ clusterId: 'j-STANDING', created: false });
    await emr.send(new TerminateJobFlowsCommand({ JobFlowIds: ['j-STANDING'] }));
    await new Promise((r) => setTimeout(r, 100));
    expect(await standingCellCluster(emr, cell).catch((e: unknown) => e)).toMatchObject({ name: 'ClusterUnhealthyError', reason: 'USER_REQUEST' });
  });
});
