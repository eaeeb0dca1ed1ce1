import { readFileSync } from 'node:fs';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStepFunctions, type LocalStepFunctions } from '../local/stepfunctions';
import type { RunInput } from '../shared/core/runs/run-input';

/*
 * The end of a job run on both state machines, run by the local Step Functions stand-in with
 * scripted Lambdas: once the stages are done, neither recording the run (MarkSucceeded) nor
 * starting the batch's next input generation (StartNextGeneration) can fail the execution.
 */

/** A state machine as the local stack runs it: `Fn::GetAtt` function references become function names. */
const machine = (file: string) =>
  JSON.parse(readFileSync(new URL(`../statemachines/${file}`, import.meta.url), 'utf8'), (_key, value: unknown) => {
    const getAtt = (value as { 'Fn::GetAtt'?: [string, string] } | null)?.['Fn::GetAtt'];
    return getAtt ? getAtt[0] : value;
  }) as object;

const run: RunInput = {
  job: 'pos_daily_sales',
  batchId: 'pos_daily_sales#province=ON#date=2026-11-23',
  values: { province: 'ON', date: '2026-11-23' },
  executionName: 'pos_daily_sales-ON-2026-11-23-abcdef012345',
  fingerprint: 'abcdef012345',
  inputs: {},
  engine: 'duckdb',
  stages: [{ name: 'aggregate' }],
};
const STARTED = { kind: 'started', batchId: run.batchId, executionName: 'pos_daily_sales-ON-2026-11-23-0123456789ab', executionArn: 'arn:next' };

const failure = (name: string) => Object.assign(new Error(`${name}: injected`), { name });

/** What the run's end does in one scenario: each action's answer, by call (the last one repeats). */
type Script = Partial<Record<'succeed' | 'next-generation', Array<unknown | Error>>>;

describe("a job run's end, on both state machines (the local Step Functions stand-in, scripted Lambdas)", () => {
  let stepFunctions: LocalStepFunctions;
  let client: SFNClient;
  let script: Script = {};
  const actions: string[] = [];

  /** jobstep, transform and emrstep as far as a run whose stages succeed needs them. */
  async function invokeLambda(functionName: string, payload: unknown): Promise<unknown> {
    const p = payload as { action?: string; run?: RunInput; state?: Record<string, unknown>; output?: unknown };
    if (functionName === 'transform') return { rows: 1 };
    if (functionName === 'emrstep') return p.action === 'prepare' ? { run: p.run } : { ...p.state, done: true };
    const action = p.action!;
    actions.push(action);
    const answers = script[action as keyof Script];
    if (!answers) return action === 'start' ? p.run : action === 'checkpoint' ? p.output : { action };
    const answer = answers[Math.min(actions.filter((a) => a === action).length, answers.length) - 1];
    if (answer instanceof Error) throw answer;
    return answer;
  }

  beforeAll(async () => {
    stepFunctions = await startLocalStepFunctions({
      stateMachines: { 'job-run': { definition: machine('job-run.asl.json') }, 'emr-job-run': { definition: machine('emr-job-run.asl.json') } },
      invokeLambda,
      fastWaits: true,
    });
    client = new SFNClient({ endpoint: stepFunctions.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test-secret' } });
  });
  afterAll(async () => {
    client?.destroy();
    await stepFunctions?.stop();
  });

  /** Runs one execution of `name` with this script; its status, output and the jobstep actions called. */
  async function runEnd(name: string, scenario: Script) {
    script = scenario;
    actions.length = 0;
    const { executionArn } = await client.send(
      new StartExecutionCommand({
        stateMachineArn: stepFunctions.stateMachineArn(name),
        name: `${name}-${Math.random().toString(16).slice(2)}`,
        input: JSON.stringify(run),
      }),
    );
    await stepFunctions.idle(10_000);
    const out = await client.send(new DescribeExecutionCommand({ executionArn }));
    return { status: out.status, output: JSON.parse(out.output ?? 'null') as Record<string, any>, actions: [...actions] };
  }

  const count = (actions: string[], action: string) => actions.filter((a) => a === action).length;

  it.each(['job-run', 'emr-job-run'])('%s: records the run, then starts the next generation in a step of its own', async (name) => {
    const end = await runEnd(name, { succeed: [{ status: 'SUCCEEDED', recorded: 'now' }], 'next-generation': [STARTED] });
    expect(end.status).toBe('SUCCEEDED');
    expect(end.actions.slice(-2)).toEqual(['succeed', 'next-generation']);
    expect(end.output.nextGeneration).toEqual({ outcome: STARTED });
  });

  it.each(['job-run', 'emr-job-run'])(
    '%s: ends SUCCEEDED when the next generation cannot be started past its retries (ExecutionLimitExceeded), leaving it to the reconciler',
    async (name) => {
      const end = await runEnd(name, { succeed: [{ status: 'SUCCEEDED', recorded: 'now' }], 'next-generation': [failure('ExecutionLimitExceeded')] });
      expect(end.status).toBe('SUCCEEDED');
      expect(count(end.actions, 'succeed')).toBe(1);
      expect(count(end.actions, 'next-generation')).toBe(7); // tried once and retried 6 times
      expect(end.actions).not.toContain('fail');
      expect(end.output.nextGeneration).toEqual({
        outcome: 'left for the reconciler',
        error: { Error: 'ExecutionLimitExceeded', Cause: 'ExecutionLimitExceeded: injected' },
      });
    },
  );

  it.each(['job-run', 'emr-job-run'])('%s: retries a crashed next-generation step (Runtime.ExitError) until it starts the generation', async (name) => {
    const crash = failure('Runtime.ExitError');
    const end = await runEnd(name, { 'next-generation': [crash, crash, STARTED] });
    expect(end.status).toBe('SUCCEEDED');
    expect(count(end.actions, 'next-generation')).toBe(3);
    expect(end.output.nextGeneration).toEqual({ outcome: STARTED });
  });

  it.each(['job-run', 'emr-job-run'])(
    '%s: ends SUCCEEDED when the run cannot be recorded past its retries (the reconciler records it), and still looks for the next generation',
    async (name) => {
      const end = await runEnd(name, { succeed: [failure('ProvisionedThroughputExceededException')], 'next-generation': [STARTED] });
      expect(end.status).toBe('SUCCEEDED');
      expect(count(end.actions, 'succeed')).toBe(7);
      expect(end.actions).not.toContain('fail');
      expect(end.output.finish).toMatchObject({ recorded: 'left for the reconciler', error: { Error: 'ProvisionedThroughputExceededException' } });
      expect(end.output.nextGeneration).toEqual({ outcome: STARTED });
    },
  );
});
