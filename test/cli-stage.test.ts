import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { PREFIX } from '../shared/core/s3/layout';
import { executionsOf } from './support/jobs';
import { useLocalStack } from './support/local-stack';
import { itemMaster, masterKey, storeFile, storeKey } from './support/pos-files';

/*
 * `landfall … --stage S` against a deployed stage: here the local stack's stage ("local"), reached
 * the way a deployed one is (default credential chain, names from serverless.yml for the stage,
 * state machines and the failed-events queue looked up by name), with the SDK's standard endpoint
 * variables pointing the unmodified clients at the local stand-ins.
 */
const stack = useLocalStack();

/** The CLI in its own process, asynchronously: the stand-ins it calls are served by this process. */
function landfall(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const env = stack().env;
  const endpoints = Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('AWS_ENDPOINT_URL_')));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/landfall.mjs', ...args], {
      cwd: join(import.meta.dirname, '..'),
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        ...endpoints,
        AWS_REGION: env.AWS_REGION,
        AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY,
        LANDFALL_S3_PATH_STYLE: 'true',
        POWERTOOLS_LOG_LEVEL: 'SILENT',
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('operating a deployed stage (--stage)', () => {
  it('status, explain, retry and reconcile run the same code against the stage', { timeout: 300_000 }, async () => {
    const date = '2026-08-01';
    const files = {
      ...Object.fromEntries(['ON01', 'ON02', 'ON03', 'ON04'].map((s) => [storeKey(s, date), storeFile(s, date, 10)])),
      [masterKey(date)]: itemMaster(),
    };
    for (const [key, body] of Object.entries(files))
      await stack().s3.send(new PutObjectCommand({ Bucket: stack().deployment.names.rawBucket, Key: `${PREFIX.landing}${key}`, Body: body }));
    await stack().settled(500);
    expect(executionsOf(stack(), 'ON', date)).toEqual([]);

    const explain = await landfall('explain', '--job', 'pos_daily_sales', '--batch', `province=ON,date=${date}`, '--stage', 'local');
    expect(explain.status, explain.stderr).toBe(0);
    expect(explain.stdout).toContain(`pos_daily_sales#province=ON#date=${date} (stage local)`);
    expect(explain.stdout).toContain('waits for: 4 of 5 stores of pos (have ON01, ON02, ON03, ON04)');

    const status = await landfall('status', '--stage', 'local');
    expect(status.status, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/pos\/ON\/ON01_20260801_200000\.tdf\s+CONVERTED/);

    const reconcile = await landfall('reconcile', '--stage', 'local', '--grace', '0');
    expect(reconcile.status, reconcile.stderr).toBe(0);
    expect(reconcile.stdout).toMatch(/^reconciled stage local at .*: 0 repair\(s\)/);

    const retry = await landfall('retry', '--job', 'pos_daily_sales', '--batch', `province=ON,date=${date}`, '--stage', 'local');
    expect(retry.status).toBe(2);
    expect(retry.stderr).toContain(`batch pos_daily_sales#province=ON#date=${date} has no failed run to retry (last run: none)`);
    // recorded in the batch's history, as the console's actions are, by whoever ran it
    const actions = await stack().jobRuns.actionsOf(`pos_daily_sales#province=ON#date=${date}`);
    expect(actions.map((a) => [a.action, a.via, a.outcome])).toEqual([['retry', 'cli', 'refused']]);
    expect(actions[0]!.detail).toContain('has no failed run to retry');

    // every batch written by this landfall has its console index keys: nothing to add
    const indexed = await landfall('index-batches', '--stage', 'local');
    expect(indexed.status, indexed.stderr).toBe(0);
    expect(indexed.stdout).toBe('0 batch(es) of stage local indexed for the console (the others had their keys)\n');

    // a stage that is not deployed here: a clear error, not a stack trace
    const unknown = await landfall('status', '--stage', 'nowhere');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/^landfall: .*landfall-nowhere-file-state.*is stage nowhere deployed in this account and region\?/s);
  });
});
