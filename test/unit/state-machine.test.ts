import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import aslValidator from 'asl-validator';

/* The job-run ASL as deployed: `Fn::GetAtt` references become function ARNs (as serverless-step-functions does). */
const raw = readFileSync(new URL('../../statemachines/job-run.asl.json', import.meta.url), 'utf8');
const definition = JSON.parse(raw, (_key, value: unknown) => {
  const getAtt = (value as { 'Fn::GetAtt'?: [string, string] } | null)?.['Fn::GetAtt'];
  return getAtt ? `arn:aws:lambda:us-east-1:123456789012:function:landfall-ci-${getAtt[0]}` : value;
}) as { States: Record<string, any> };

type State = Record<string, any>;

/** The states a state can lead to: Next, Default, its Choices' and its Catches' Next. */
function successors(state: State): string[] {
  return [state.Next, state.Default, ...(state.Choices ?? []).map((c: State) => c.Next), ...(state.Catch ?? []).map((c: State) => c.Next)].filter(Boolean);
}

/** Every state reachable from `from` (itself included). */
function reachable(states: Record<string, State>, from: string): string[] {
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    successors(states[name]!).forEach(visit);
  };
  visit(from);
  return [...seen];
}

/**
 * A run's end, in either machine: MarkSucceeded records it, StartNextGeneration starts the batch's
 * next input generation; past their retries each goes on (the reconciler finishes what they could
 * not), so nothing after the work is done can fail the execution.
 */
function expectRunEndNeverFails(states: Record<string, State>, runPath: string) {
  expect(states.MarkSucceeded).toMatchObject({
    Parameters: { Payload: { action: 'succeed', 'run.$': runPath } },
    Next: 'StartNextGeneration',
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.finish', Next: 'SucceededUnrecorded' }],
  });
  expect(states.SucceededUnrecorded).toMatchObject({ Type: 'Pass', Parameters: { recorded: 'left for the reconciler' }, Next: 'StartNextGeneration' });
  expect(states.StartNextGeneration).toMatchObject({
    Type: 'Task',
    Parameters: { Payload: { action: 'next-generation', 'run.$': runPath } },
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.nextGeneration', Next: 'NextGenerationLeft' }],
    Next: 'Succeeded',
  });
  expect(states.StartNextGeneration!.Retry[0].ErrorEquals).toEqual(
    expect.arrayContaining(['Runtime.ExitError', 'Lambda.TooManyRequestsException', 'ThrottlingException', 'ExecutionLimitExceeded']),
  );
  expect(states.NextGenerationLeft).toMatchObject({ Type: 'Pass', Parameters: { outcome: 'left for the reconciler' }, Next: 'Succeeded' });
  expect(states.Succeeded!.Type).toBe('Succeed');
  const after = reachable(states, 'MarkSucceeded');
  expect(after.sort()).toEqual(['MarkSucceeded', 'NextGenerationLeft', 'StartNextGeneration', 'Succeeded', 'SucceededUnrecorded']);
  expect(after.filter((name) => states[name]!.Type === 'Fail')).toEqual([]);
}

function allStates(states: Record<string, State>): Array<[string, State]> {
  return Object.entries(states).flatMap(([name, s]) => [[name, s] as [string, State], ...(s.ItemProcessor ? allStates(s.ItemProcessor.States) : [])]);
}

describe('the job-run state machine', () => {
  it('is valid ASL', () => {
    const { isValid, errorsText } = aslValidator(definition);
    expect(isValid, errorsText()).toBe(true);
  });

  it('retries every task on transient errors with backoff and jitter', () => {
    const tasks = allStates(definition.States).filter(([, s]) => s.Type === 'Task');
    expect(tasks.length).toBeGreaterThanOrEqual(6);
    for (const [name, task] of tasks) {
      const retry = task.Retry?.[0];
      expect(retry, name).toMatchObject({ BackoffRate: 2, JitterStrategy: 'FULL' });
      expect(retry.ErrorEquals, name).toEqual(expect.arrayContaining(['Lambda.ServiceException', 'Lambda.TooManyRequestsException', 'TransientError']));
      expect(retry.ErrorEquals, name).not.toContain('States.ALL');
    }
  });

  it('records a failure, notifies and fails from every step that can fail the run', () => {
    for (const name of ['MarkRunning', 'RunStages']) {
      expect(definition.States[name].Catch, name).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RecordFailure' }]);
    }
    expect(definition.States.RecordFailure.Next).toBe('NotifyFailure');
    expect(definition.States.NotifyFailure.Next).toBe('Failed');
    expect(definition.States.Failed.Type).toBe('Fail');
    // the stages run in order, each checkpointed right after it ran
    expect(definition.States.RunStages).toMatchObject({ Type: 'Map', MaxConcurrency: 1, ItemsPath: '$.stages' });
    expect(definition.States.RunStages.ItemProcessor.States.Transform.Next).toBe('Checkpoint');
  });

  it('ends SUCCEEDED once the stages are done: recording the run and starting the next generation never fail it', () => {
    expectRunEndNeverFails(definition.States, '$');
  });
});

describe('the EMR job-run state machine', () => {
  const emr = JSON.parse(readFileSync(new URL('../../statemachines/emr-job-run.asl.json', import.meta.url), 'utf8'), (_key, value: unknown) => {
    const getAtt = (value as { 'Fn::GetAtt'?: [string, string] } | null)?.['Fn::GetAtt'];
    return getAtt ? `arn:aws:lambda:us-east-1:123456789012:function:landfall-ci-${getAtt[0]}` : value;
  }) as { States: Record<string, any> };
  const catchOf = (state: string, error: string) => emr.States[state].Catch.find((c: any) => c.ErrorEquals.includes(error))?.Next;

  it('is valid ASL', () => {
    const { isValid, errorsText } = aslValidator(emr);
    expect(isValid, errorsText()).toBe(true);
  });

  it('retries a failed step on the same cluster, fails over on an unhealthy one, and polls in a Wait loop', () => {
    expect(catchOf('Poll', 'StepFailedError')).toBe('StepFailed');
    expect(catchOf('Poll', 'ClusterUnhealthyError')).toBe('Failover');
    expect(catchOf('Submit', 'ClusterUnhealthyError')).toBe('Failover');
    expect(emr.States.StepFailed.Next).toBe('RetryOrFailover');
    expect(emr.States.RetryOrFailover).toMatchObject({ Choices: [{ Variable: '$.next', StringEquals: 'failover', Next: 'Failover' }], Default: 'Backoff' });
    expect(emr.States.Backoff).toMatchObject({ Type: 'Wait', SecondsPath: '$.backoffSeconds', Next: 'Submit' });
    // after a failover the other cell's cluster is acquired (created in transient mode) first
    expect(emr.States.Failover.Next).toBe('Acquire');
    expect(emr.States.WaitForStep).toMatchObject({ Type: 'Wait', Next: 'Poll' });
    expect(emr.States.StepDone).toMatchObject({ Default: 'WaitForStep' });
    // a completed stage is checkpointed, and the next stage is chosen from the checkpoints
    expect(emr.States.Checkpoint.Next).toBe('NextStage');
    expect(emr.States.Failover.Parameters.Payload.action).toBe('failover');
    for (const state of ['Prepare', 'NextStage', 'Acquire', 'Submit', 'Poll', 'StepFailed', 'ClusterEnded', 'Failover']) {
      expect(emr.States[state].Catch.at(-1), state).toMatchObject({ ErrorEquals: ['States.ALL'] });
      expect(emr.States[state].Retry[0].ErrorEquals, state).not.toContain('StepFailedError');
    }
  });

  it("acquires the cell's cluster before each stage, waits while another run creates it, and acquires again when it ended", () => {
    expect(emr.States.AllStagesDone.Default).toBe('Acquire');
    expect(emr.States.Acquire.Parameters.Payload.action).toBe('acquire');
    expect(emr.States.Acquire.Next).toBe('ClusterReady');
    expect(emr.States.ClusterReady).toMatchObject({ Choices: [{ Variable: '$.waiting', BooleanEquals: true, Next: 'WaitForCluster' }], Default: 'Submit' });
    expect(emr.States.WaitForCluster).toMatchObject({ Type: 'Wait', SecondsPath: '$.waitSeconds', Next: 'Acquire' });
    // a creation RunJobFlow refuses, or a cluster that will not come up, fails over
    expect(catchOf('Acquire', 'ClusterUnhealthyError')).toBe('Failover');
    // a cluster that ended normally (idle timeout, an operator) is replaced in the same cell
    expect(catchOf('Submit', 'ClusterEndedError')).toBe('ClusterEnded');
    expect(catchOf('Poll', 'ClusterEndedError')).toBe('ClusterEnded');
    expect(emr.States.ClusterEnded.Next).toBe('Acquire');
    expect(catchOf('ClusterEnded', 'ClusterUnhealthyError')).toBe('Failover');
  });

  it('ends SUCCEEDED once the stages are done: recording the run and starting the next generation never fail it', () => {
    expectRunEndNeverFails(emr.States, '$.run');
  });
});
