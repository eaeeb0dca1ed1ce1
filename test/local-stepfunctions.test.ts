import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  InvalidDefinition,
  InvalidName,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
  StopExecutionCommand,
  type DescribeExecutionCommandOutput,
  type ExecutionStatus,
} from '@aws-sdk/client-sfn';
import { startLocalStepFunctions, type LocalStepFunctions } from '../local/stepfunctions';
import { planDefinition } from '../local/stepfunctions-asl';

class TransientError extends Error {
  override name = 'TransientError';
}
class FatalError extends Error {
  override name = 'FatalError';
}

const invoke = (next: string, payload: Record<string, unknown> = { 'Payload.$': '$' }) => ({
  Type: 'Task',
  Resource: 'arn:aws:states:::lambda:invoke',
  Parameters: { FunctionName: 'f', ...payload },
  OutputPath: '$.Payload',
  ...(next === 'End' ? { End: true } : { Next: next }),
});

/** Task (Retry on TransientError, Catch everything) → Choice → a long Wait → Succeed, or Fail. */
const pipeline = {
  StartAt: 'Process',
  States: {
    Process: {
      ...invoke('Route'),
      Retry: [{ ErrorEquals: ['TransientError'], IntervalSeconds: 30, MaxAttempts: 2, BackoffRate: 2 }],
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'Failed' }],
    },
    Route: { Type: 'Choice', Choices: [{ Variable: '$.ok', BooleanEquals: true, Next: 'Pause' }], Default: 'Rejected' },
    Pause: { Type: 'Wait', Seconds: 3600, Next: 'Done' },
    Done: { Type: 'Succeed' },
    Rejected: { Type: 'Fail', Error: 'Rejected', Cause: 'the function said no' },
    Failed: { Type: 'Fail', ErrorPath: '$.failure.Error', CausePath: '$.failure.Cause' },
  },
};

/** Tasks inside Parallel branches and a Map iterator, plus a plain Lambda ARN and the context object. */
const fanout = {
  StartAt: 'Both',
  States: {
    Both: {
      Type: 'Parallel',
      Branches: [
        { StartAt: 'Named', States: { Named: invoke('End', { Payload: { mode: 'echo', 'execution.$': '$$.Execution.Name' } }) } },
        {
          StartAt: 'Each',
          States: {
            Each: {
              Type: 'Map',
              ItemsPath: '$.items',
              Iterator: { StartAt: 'Item', States: { Item: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:g', End: true } } },
              End: true,
            },
          },
        },
      ],
      End: true,
    },
  },
};

const uncaught = { StartAt: 'Only', States: { Only: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:g', End: true } } };
const slow = { StartAt: 'Block', TimeoutSeconds: 1, States: { Block: invoke('End') } };
const notify = {
  StartAt: 'Notify',
  States: {
    Notify: {
      Type: 'Task',
      Resource: 'arn:aws:states:::sns:publish',
      Parameters: { TopicArn: 'arn:aws:sns:us-east-1:000000000000:t', 'Message.$': '$' },
      End: true,
    },
  },
};

describe('local Step Functions (real SFNClient over HTTP)', () => {
  let sfn: LocalStepFunctions;
  let client: SFNClient;
  const calls: Array<{ functionName: string; payload: Record<string, unknown> }> = [];
  const failedOnce = new Set<string>();
  const gates = new Map<string, () => void>();
  const opened = new Map<string, Promise<void>>();

  const gate = (id: string) => {
    if (!opened.has(id)) opened.set(id, new Promise<void>((r) => gates.set(id, r)));
    return opened.get(id)!;
  };
  const release = (id: string) => {
    void gate(id);
    gates.get(id)!();
  };
  const callsFor = (id: string) => calls.filter((c) => c.payload.id === id).length;

  async function invokeLambda(functionName: string, payload: unknown): Promise<unknown> {
    const p = payload as Record<string, unknown>;
    calls.push({ functionName, payload: p });
    if (functionName.endsWith(':function:g')) {
      if (p.fail) throw new FatalError(`cannot handle ${String(p.fail)}`);
      return { item: p, via: functionName };
    }
    const id = String(p.id);
    switch (p.mode) {
      case 'flaky':
        if (!failedOnce.has(id)) {
          failedOnce.add(id);
          throw new TransientError('throttled, try again');
        }
        return { ok: true, id, attempts: callsFor(id) };
      case 'reject':
        return { ok: false };
      case 'fatal':
        throw new FatalError('disk full');
      case 'block':
        await gate(id);
        return { ok: true, id };
      case 'echo':
        return p;
      default:
        return { ok: true, id };
    }
  }

  const start = (machine: string, name: string | undefined, input: object) =>
    client.send(
      new StartExecutionCommand({ stateMachineArn: sfn.stateMachineArn(machine), ...(name !== undefined ? { name } : {}), input: JSON.stringify(input) }),
    );

  async function finished(executionArn: string): Promise<DescribeExecutionCommandOutput> {
    for (let i = 0; i < 500; i++) {
      const out = await client.send(new DescribeExecutionCommand({ executionArn }));
      if (out.status !== 'RUNNING') return out;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`${executionArn} still running`);
  }

  async function until(check: () => boolean): Promise<void> {
    for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(check()).toBe(true);
  }

  const rejection = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (e: unknown) => e,
    );

  beforeAll(async () => {
    sfn = await startLocalStepFunctions({
      stateMachines: {
        pipeline: { definition: pipeline },
        fanout: { definition: fanout },
        uncaught: { definition: uncaught },
        slow: { definition: slow },
        notify: { definition: notify },
      },
      invokeLambda,
      fastWaits: true,
    });
    client = new SFNClient({ endpoint: sfn.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test-secret' } });
  });
  afterAll(async () => {
    for (const release of gates.values()) release();
    client?.destroy();
    await sfn?.stop();
  });

  it('runs an execution to SUCCEEDED, retrying a TransientError once', async () => {
    const started = await start('pipeline', 'flaky-1', { mode: 'flaky', id: 'flaky-1' });
    expect(started.executionArn).toBe('arn:aws:states:us-east-1:000000000000:execution:pipeline:flaky-1');
    expect(started.startDate).toBeInstanceOf(Date);
    const done = await finished(started.executionArn!);
    expect(done).toMatchObject({
      status: 'SUCCEEDED',
      name: 'flaky-1',
      stateMachineArn: sfn.stateMachineArn('pipeline'),
      input: '{"mode":"flaky","id":"flaky-1"}',
    });
    // The Task's OutputPath unwraps lambda:invoke's {Payload, StatusCode}; the 3600 s Wait took 0 ms.
    expect(JSON.parse(done.output!)).toEqual({ ok: true, id: 'flaky-1', attempts: 2 });
    expect(callsFor('flaky-1')).toBe(2);
    expect(calls.find((c) => c.payload.id === 'flaky-1')?.functionName).toBe('f');
    expect(done.stopDate!.getTime()).toBeGreaterThanOrEqual(done.startDate!.getTime());
    expect(Date.now() - done.startDate!.getTime()).toBeLessThan(10_000);
  });

  it('ends FAILED with the error and cause of a Fail state and of a caught task error', async () => {
    const rejected = await finished((await start('pipeline', 'reject-1', { mode: 'reject', id: 'reject-1' })).executionArn!);
    expect(rejected).toMatchObject({ status: 'FAILED', error: 'Rejected', cause: 'the function said no' });
    expect(rejected.output).toBeUndefined();
    const fatal = await finished((await start('pipeline', 'fatal-1', { mode: 'fatal', id: 'fatal-1' })).executionArn!);
    expect(fatal).toMatchObject({ status: 'FAILED', error: 'FatalError', cause: 'disk full' });
    expect(callsFor('fatal-1')).toBe(1); // FatalError is not retried
  });

  it('ends FAILED on an uncaught error from a plain Lambda ARN task', async () => {
    const out = await finished((await start('uncaught', undefined, { fail: 'this' })).executionArn!);
    expect(out).toMatchObject({ status: 'FAILED', error: 'FatalError', cause: 'cannot handle this' });
    expect(out.name).toMatch(/^[0-9a-f-]{36}$/); // no name given: AWS makes a UUID
  });

  it('routes tasks inside Parallel branches and Map iterators, with the context object', async () => {
    const out = await finished((await start('fanout', 'fan-1', { items: [{ n: 1 }, { n: 2 }] })).executionArn!);
    expect(out.status).toBe('SUCCEEDED');
    expect(JSON.parse(out.output!)).toEqual([
      { mode: 'echo', execution: 'fan-1' },
      [
        { item: { n: 1 }, via: 'arn:aws:lambda:us-east-1:000000000000:function:g' },
        { item: { n: 2 }, via: 'arn:aws:lambda:us-east-1:000000000000:function:g' },
      ],
    ]);
  });

  it('gives the same name and input while RUNNING the same execution, which runs once', async () => {
    const input = { mode: 'block', id: 'dup' };
    const first = await start('pipeline', 'dup', input);
    const second = await start('pipeline', 'dup', input);
    expect(second.executionArn).toBe(first.executionArn);
    expect(second.startDate).toEqual(first.startDate);
    await until(() => callsFor('dup') === 1);

    const other = await rejection(start('pipeline', 'dup', { mode: 'block', id: 'other' }));
    expect(other).toBeInstanceOf(ExecutionAlreadyExists);
    expect((other as ExecutionAlreadyExists).$metadata.httpStatusCode).toBe(400);

    release('dup');
    expect((await finished(first.executionArn!)).status).toBe('SUCCEEDED');
    expect(callsFor('dup')).toBe(1);
    expect(sfn.executions().filter((e) => e.name === 'dup')).toHaveLength(1);

    // Finished: even the identical request is refused now.
    expect(await rejection(start('pipeline', 'dup', input))).toBeInstanceOf(ExecutionAlreadyExists);
    // Names are per state machine.
    expect((await start('uncaught', 'dup', {})).executionArn).toBe('arn:aws:states:us-east-1:000000000000:execution:uncaught:dup');
  });

  it('starts exactly one execution for 20 concurrent identical StartExecution calls', async () => {
    const input = { mode: 'block', id: 'burst' };
    const results = await Promise.all(Array.from({ length: 20 }, () => start('pipeline', 'burst', input)));
    expect(new Set(results.map((r) => r.executionArn)).size).toBe(1);
    expect(new Set(results.map((r) => r.startDate!.getTime())).size).toBe(1);
    expect(sfn.executions().filter((e) => e.name === 'burst')).toHaveLength(1);
    await until(() => callsFor('burst') === 1);
    release('burst');
    expect((await finished(results[0]!.executionArn!)).status).toBe('SUCCEEDED');
    expect(callsFor('burst')).toBe(1);
  });

  it('refuses names AWS refuses with InvalidName', async () => {
    for (const name of ['has space', 'a/b', 'semi;colon', 'tab\tname', 'x'.repeat(81), 'brace{', 'star*', 'new\nline']) {
      expect(await rejection(start('pipeline', name, { mode: 'ok' })), name).toBeInstanceOf(InvalidName);
    }
    const ok = await start('pipeline', 'pos-ON_2026-11-24.run-1', { mode: 'ok', id: 'ok-name' });
    expect((await finished(ok.executionArn!)).status).toBe('SUCCEEDED');
  });

  it('lists executions newest first, filtered by status', async () => {
    const running = await start('pipeline', 'listed-running', { mode: 'block', id: 'listed' });
    const list = async (statusFilter?: ExecutionStatus) =>
      (
        await client.send(new ListExecutionsCommand({ stateMachineArn: sfn.stateMachineArn('pipeline'), ...(statusFilter ? { statusFilter } : {}) }))
      ).executions!.map((e) => e.name);

    expect(await list('RUNNING')).toEqual(['listed-running']);
    expect(await list('FAILED')).toEqual(['fatal-1', 'reject-1']);
    expect(await list('SUCCEEDED')).toEqual(['pos-ON_2026-11-24.run-1', 'burst', 'dup', 'flaky-1']);
    expect((await list())[0]).toBe('listed-running');
    const [summary] = (await client.send(new ListExecutionsCommand({ stateMachineArn: sfn.stateMachineArn('pipeline'), statusFilter: 'RUNNING' }))).executions!;
    expect(summary).toMatchObject({ executionArn: running.executionArn, status: 'RUNNING', startDate: running.startDate });
    release('listed');
    await finished(running.executionArn!);
  });

  it('stops an execution as ABORTED and times one out as TIMED_OUT', async () => {
    const started = await start('pipeline', 'stopped', { mode: 'block', id: 'stopped' });
    await until(() => callsFor('stopped') === 1);
    const stop = await client.send(new StopExecutionCommand({ executionArn: started.executionArn, error: 'Manual', cause: 'operator' }));
    expect(stop.stopDate).toBeInstanceOf(Date);
    release('stopped'); // the task finishing later does not change the outcome
    await sfn.idle(5_000);
    expect(await finished(started.executionArn!)).toMatchObject({ status: 'ABORTED', error: 'Manual', cause: 'operator' });

    const slowRun = await start('slow', 'slow-1', { mode: 'block', id: 'never' });
    expect((await finished(slowRun.executionArn!)).status).toBe('TIMED_OUT');
  });

  it('raises the typed errors for unknown machines and executions and unsupported definitions', async () => {
    const missing = 'arn:aws:states:us-east-1:000000000000:stateMachine:missing';
    expect(await rejection(client.send(new StartExecutionCommand({ stateMachineArn: missing, name: 'x' })))).toBeInstanceOf(StateMachineDoesNotExist);
    expect(await rejection(client.send(new ListExecutionsCommand({ stateMachineArn: missing })))).toBeInstanceOf(StateMachineDoesNotExist);
    expect(
      await rejection(client.send(new DescribeExecutionCommand({ executionArn: 'arn:aws:states:us-east-1:000000000000:execution:pipeline:nope' }))),
    ).toBeInstanceOf(ExecutionDoesNotExist);

    const unsupported = await rejection(start('notify', 'n-1', {}));
    expect(unsupported).toBeInstanceOf(InvalidDefinition);
    expect((unsupported as Error).message).toContain('unsupported resource arn:aws:states:::sns:publish in state "Notify"');
    expect(sfn.executions().filter((e) => e.name === 'n-1')).toHaveLength(0);
  });

  it('describes and lists the state machines', async () => {
    const described = await client.send(new DescribeStateMachineCommand({ stateMachineArn: sfn.stateMachineArn('pipeline') }));
    expect(described).toMatchObject({
      name: 'pipeline',
      status: 'ACTIVE',
      type: 'STANDARD',
      stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:pipeline',
    });
    expect(JSON.parse(described.definition!)).toEqual(pipeline);
    expect(described.creationDate).toBeInstanceOf(Date);
    const listed = await client.send(new ListStateMachinesCommand({}));
    expect(listed.stateMachines!.map((m) => m.name)).toEqual(['pipeline', 'fanout', 'uncaught', 'slow', 'notify']);
  });

  it('tracks executions and reports idle', async () => {
    await sfn.idle(5_000);
    const all = sfn.executions();
    expect(all.every((e) => e.status !== 'RUNNING')).toBe(true);
    expect(all[0]!.name).toBe('flaky-1'); // start order
    expect(all.find((e) => e.name === 'reject-1')).toMatchObject({ status: 'FAILED', error: 'Rejected', cause: 'the function said no' });
  });

  it('plans a definition: Task timeouts lifted, waits and retries zeroed, nested states included', () => {
    const plan = planDefinition(pipeline, async () => null, true);
    expect(Object.keys(plan.overrides.taskResourceLocalHandlers!)).toEqual(['Process']);
    expect(plan.overrides.waitTimeOverrides).toEqual({ Pause: 0 });
    expect(plan.overrides.retryIntervalOverrides).toEqual({ Process: 0 });
    // aws-local-stepfunctions would time a Task out after 60 s; AWS has no default Task timeout.
    expect((plan.definition.States.Process as { TimeoutSeconds?: number }).TimeoutSeconds).toBeGreaterThan(60 * 60 * 24);
    expect((pipeline.States.Process as { TimeoutSeconds?: number }).TimeoutSeconds).toBeUndefined();
    expect(Object.keys(planDefinition(fanout, async () => null, false).overrides.taskResourceLocalHandlers!)).toEqual(['Named', 'Item']);
    expect(() => planDefinition({ StartAt: 'A', QueryLanguage: 'JSONata', States: { A: { Type: 'Succeed' } } }, async () => null, false)).toThrow(/JSONata/);
    // aws-local-stepfunctions would run these and silently skip the field.
    expect(() => planDefinition({ StartAt: 'A', States: { A: { Type: 'Pass', Assign: { x: 1 }, End: true } } }, async () => null, false)).toThrow(
      /uses Assign/,
    );
  });
});
