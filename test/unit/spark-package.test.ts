import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EMRClient } from '@aws-sdk/client-emr';
import { mockClient } from 'aws-sdk-client-mock';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AddJobFlowStepsCommand, ListStepsCommand } from '@aws-sdk/client-emr';
import { compilePipeline, loadPipelineFile } from '../../shared/core/config/load-config';
import { sparkModuleName, sparkPackageRoot } from '../../shared/core/config/spark-package';
import { emrJobOf, submitEmrStage, type EmrFlowDeps, type EmrRunState } from '../../shared/stages/orchestrate/emr-flow';
import { RETAIL_PIPELINE_FILE } from '../../examples/retail/config';

const job = (name: string, stages: Array<{ name: string; spark: string }>) => ({ name, stages });

describe('the Spark package of a pipeline', () => {
  it('is rooted at the deepest folder holding every Spark stage module', () => {
    expect(
      sparkPackageRoot({ jobs: [job('a', [{ name: 's', spark: '/p/spark/clean.py' }]), job('b', [{ name: 't', spark: '/p/spark/heavy/join.py' }])] } as never),
    ).toBe('/p/spark');
    expect(sparkPackageRoot({ jobs: [job('a', [{ name: 's', spark: '/p/one/x.py' }]), job('b', [{ name: 't', spark: '/p/two/y.py' }])] } as never)).toBe('/p');
    // a sibling folder whose name merely starts the same is not inside
    expect(sparkPackageRoot({ jobs: [job('a', [{ name: 's', spark: '/p/spark/x.py' }]), job('b', [{ name: 't', spark: '/p/spark2/y.py' }])] } as never)).toBe(
      '/p',
    );
    expect(sparkPackageRoot({ jobs: [{ name: 'sql', stages: [{ name: 's', sql: '/p/a.v1.sql' }] }] } as never)).toBeUndefined();
  });

  it('names each module by its path under the root', () => {
    expect(sparkModuleName('/p/spark', '/p/spark/heavy/join.py')).toBe('landfall_pipeline.heavy.join');
    expect(() => sparkModuleName('/p', '/p/my-stages/x.py', 'jobs[0].stages[0].spark')).toThrow(
      /jobs\[0\]\.stages\[0\]\.spark: .*"my-stages" is not a Python name/,
    );
    expect(() => sparkModuleName('/p', '/p/2nd.py')).toThrow(/"2nd" is not a Python name/);
  });

  it('refuses, at load, a Spark module that cannot be imported, naming the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'landfall-spark-names-'));
    mkdirSync(join(dir, 'spark'));
    writeFileSync(join(dir, 'spark', 'daily-roll.py'), '');
    const config = {
      datasets: [
        {
          name: 'raw',
          keyPattern: 'raw/{day:YYYYMMDD}/{part}.csv',
          format: { kind: 'delimited', delimiter: ',' },
          columns: [{ name: 'v', kind: 'string' }],
          dateField: 'day',
        },
      ],
      jobs: [
        {
          name: 'roll',
          batchKey: ['day'],
          inputs: [{ relation: 'raw', dataset: 'raw', match: ['day'] }],
          engine: 'emr',
          stages: [{ name: 'roll', spark: 'spark/daily-roll.py' }],
          output: { table: 'roll', partitionBy: ['day'], key: ['v'] },
        },
      ],
    };
    expect(() => compilePipeline(config, { baseDir: dir })).toThrow(/jobs\[0\]\.stages\[0\]\.spark: .*"daily-roll" is not a Python name/);
  });

  it("gives the samples' stages their modules in examples/retail/spark", () => {
    const pipeline = loadPipelineFile(RETAIL_PIPELINE_FILE);
    expect(emrJobOf(pipeline, 'pos_daily_sales').modules).toEqual({ aggregate: 'landfall_pipeline.pos_daily_sales' });
    expect(emrJobOf(pipeline, 'clickstream_daily').modules).toEqual({
      clean: 'landfall_pipeline.clean',
      enrich: 'landfall_pipeline.enrich',
      sessionize: 'landfall_pipeline.sessionize',
      metrics: 'landfall_pipeline.metrics',
    });
  });
});

describe('a Spark step of a run', () => {
  it('names the module, every batch value, the date field and the output partition', async () => {
    const emr = mockClient(EMRClient);
    emr.on(ListStepsCommand).resolves({ Steps: [] });
    emr.on(AddJobFlowStepsCommand).resolves({ StepIds: ['s-1'] });
    // the job's output checks go to the step as a plan of Spark SQL, written beside the run's inputs
    const s3 = mockClient(S3Client);
    s3.on(PutObjectCommand).resolves({});
    const pipeline = loadPipelineFile(RETAIL_PIPELINE_FILE);
    const deps = {
      emr: new EMRClient({ region: 'us-east-1' }),
      s3: new S3Client({ region: 'us-east-1' }),
      arc: { activeCell: async () => 'cell-a' },
      lakeBucket: 'lake',
      settings: { mode: 'standing', cells: [{ name: 'cell-a', clusterId: 'j-1', routingControlArn: 'arn:rc' }] },
      sparkEntryPoint: 's3://lake/artifacts/spark/main.py',
      sparkSubmitArgs: ['--py-files', 's3://lake/artifacts/spark/landfall_jobs.zip,s3://lake/artifacts/spark/pipeline.zip'],
    } as unknown as EmrFlowDeps;
    const state = {
      run: {
        job: 'pos_daily_sales',
        batchId: 'b',
        values: { province: 'ON', date: '2026-11-23' },
        executionName: 'pos-ON-x',
        fingerprint: 'f'.repeat(64),
        inputs: {},
        engine: 'emr',
        stages: [{ name: 'aggregate' }],
      },
      cell: 'cell-a',
      clusterId: 'j-1',
      stage: 'aggregate',
      attempt: 0,
      failures: 0,
      failovers: 0,
    } as EmrRunState;
    await submitEmrStage(state, emrJobOf(pipeline, 'pos_daily_sales'), deps);
    const args = emr.commandCalls(AddJobFlowStepsCommand)[0]!.args[0].input.Steps![0]!.HadoopJarStep!.Args!;
    expect(args.slice(args.indexOf('s3://lake/artifacts/spark/main.py'))).toEqual([
      's3://lake/artifacts/spark/main.py',
      '--stage',
      'aggregate',
      '--module',
      'landfall_pipeline.pos_daily_sales',
      '--input-root',
      's3://lake/runs/pos-ON-x/input',
      '--checkpoint-root',
      's3://lake/checkpoints/pos_daily_sales/ON-2026-11-23/ffffffffffffffff',
      '--output-root',
      's3://lake/curated/pos_daily_sales',
      '--batch',
      'province=ON',
      '--batch',
      'date=2026-11-23',
      '--date-field',
      'date',
      '--partition-by',
      'province,date',
      '--checks',
      's3://lake/runs/pos-ON-x/checks/aggregate.json',
    ]);
    const plan = s3.commandCalls(PutObjectCommand)[0]!.args[0].input;
    expect(plan).toMatchObject({ Bucket: 'lake', Key: 'runs/pos-ON-x/checks/aggregate.json' });
    expect(JSON.parse(String(plan.Body)).checks.length).toBeGreaterThan(0);
    emr.restore();
    s3.restore();
  });
});
