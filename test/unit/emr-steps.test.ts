import { afterEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  AddJobFlowStepsCommand,
  CancelStepsCommand,
  DescribeClusterCommand,
  DescribeStepCommand,
  EMRClient,
  EMRServiceException,
  InternalServerError,
  InvalidRequestException,
  ListStepsCommand,
  type ClusterState,
  type StepState,
} from '@aws-sdk/client-emr';
import { checkCluster, ClusterEndedError, ClusterUnhealthyError, isUnreachable, pollStep, StepFailedError, submitStep } from '../../shared/core/emr/emr-steps';

/* The classification and idempotency logic against a mocked EMR; test/local-emr.test.ts runs it over HTTP. */

const emrMock = mockClient(EMRClient);
afterEach(() => emrMock.reset());
const emr = () => new EMRClient({ region: 'us-east-1' });

const CLUSTER = 'j-CLUSTER';
const summary = (id: string, name: string, state: StepState = 'PENDING') => ({ Id: id, Name: name, Status: { State: state } });
const cluster = (State: ClusterState, reason?: { Code?: string; Message?: string }) => ({
  Cluster: { Id: CLUSTER, Name: 'c', Status: { State, ...(reason ? { StateChangeReason: reason as never } : {}) } },
});
const step = (State: StepState, extra: Record<string, unknown> = {}) => ({ Step: { Id: 's-1', Name: 'x', Status: { State, ...extra } } });
const econnrefused = () =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED', errno: -111, syscall: 'connect', $metadata: { attempts: 3 } });
const errorOf = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('submitStep', () => {
  it('reuses a live step of the same name found on a later page, without adding', async () => {
    emrMock
      .on(ListStepsCommand, { ClusterId: CLUSTER, StepStates: ['PENDING', 'RUNNING', 'COMPLETED'] })
      .resolvesOnce({ Steps: [summary('s-3', 'other')], Marker: 'page2' })
      .resolvesOnce({ Steps: [summary('s-2', 'exec-clean-a1', 'COMPLETED')] });
    expect(await submitStep(emr(), CLUSTER, { name: 'exec-clean-a1', args: ['spark-submit'] })).toEqual({ stepId: 's-2', reused: true });
    expect(emrMock.commandCalls(ListStepsCommand)[1]!.args[0].input.Marker).toBe('page2');
    expect(emrMock.commandCalls(AddJobFlowStepsCommand)).toHaveLength(0);
  });

  it('adds a command-runner step with ActionOnFailure CONTINUE when none is live', async () => {
    emrMock
      .on(ListStepsCommand)
      .resolvesOnce({ Steps: [] })
      .resolvesOnce({ Steps: [summary('s-NEW', 'exec-clean-a1')] });
    emrMock.on(AddJobFlowStepsCommand).resolves({ StepIds: ['s-NEW'] });
    const args = ['spark-submit', '--deploy-mode', 'cluster', 's3://code/main.py', '--stage', 'clean'];
    expect(await submitStep(emr(), CLUSTER, { name: 'exec-clean-a1', args })).toEqual({ stepId: 's-NEW', reused: false });
    expect(emrMock.commandCalls(AddJobFlowStepsCommand)[0]!.args[0].input).toEqual({
      JobFlowId: CLUSTER,
      Steps: [{ Name: 'exec-clean-a1', ActionOnFailure: 'CONTINUE', HadoopJarStep: { Jar: 'command-runner.jar', Args: args } }],
    });
  });

  it('loses a race gracefully: an older live step of the name wins and its own is cancelled', async () => {
    emrMock
      .on(ListStepsCommand)
      .resolvesOnce({ Steps: [] })
      .resolvesOnce({ Steps: [summary('s-MINE', 'n'), summary('s-THEIRS', 'n', 'RUNNING')] }); // newest first
    emrMock.on(AddJobFlowStepsCommand).resolves({ StepIds: ['s-MINE'] });
    emrMock.on(CancelStepsCommand).resolves({ CancelStepsInfoList: [{ StepId: 's-MINE', Status: 'SUBMITTED' }] });
    expect(await submitStep(emr(), CLUSTER, { name: 'n', args: [] })).toEqual({ stepId: 's-THEIRS', reused: true });
    expect(emrMock.commandCalls(CancelStepsCommand)[0]!.args[0].input).toMatchObject({ ClusterId: CLUSTER, StepIds: ['s-MINE'] });
  });

  it('turns a refusal by a cluster that failed into ClusterUnhealthyError, and by one that ended normally into ClusterEndedError', async () => {
    emrMock.on(ListStepsCommand).resolves({ Steps: [] });
    emrMock.on(AddJobFlowStepsCommand).rejects(
      new EMRServiceException({
        name: 'ValidationException',
        $fault: 'client',
        $metadata: {},
        message: 'A job flow that is shutting down, terminated, or finished may not be modified.',
      }),
    );
    emrMock.on(DescribeClusterCommand).resolves(cluster('TERMINATED_WITH_ERRORS', { Code: 'INSTANCE_FAILURE', Message: 'the master node was lost' }));
    const err = await errorOf(submitStep(emr(), CLUSTER, { name: 'n', args: [] }));
    expect(err).toBeInstanceOf(ClusterUnhealthyError);
    expect(err).toMatchObject({ reason: 'INSTANCE_FAILURE', clusterState: 'TERMINATED_WITH_ERRORS' });
    // an operator (or the idle timeout) ended it: not the cell's fault
    emrMock.on(DescribeClusterCommand).resolves(cluster('TERMINATED', { Code: 'USER_REQUEST', Message: 'Terminated by user request' }));
    const ended = await errorOf(submitStep(emr(), CLUSTER, { name: 'n', args: [] }));
    expect(ended).toBeInstanceOf(ClusterEndedError);
    expect(ended).toMatchObject({ reason: 'USER_REQUEST', clusterState: 'TERMINATED' });
  });

  it('rethrows a validation error of a healthy cluster as it is', async () => {
    emrMock.on(ListStepsCommand).resolves({ Steps: [] });
    const invalid = new EMRServiceException({ name: 'ValidationException', $fault: 'client', $metadata: {}, message: 'Step name too long' });
    emrMock.on(AddJobFlowStepsCommand).rejects(invalid);
    emrMock.on(DescribeClusterCommand).resolves(cluster('WAITING'));
    expect(await errorOf(submitStep(emr(), CLUSTER, { name: 'n', args: [] }))).toBe(invalid);
  });
});

describe('pollStep', () => {
  it.each([
    ['PENDING', 'PENDING'],
    ['RUNNING', 'RUNNING'],
    ['CANCEL_PENDING', 'RUNNING'],
    ['COMPLETED', 'COMPLETED'],
  ] as const)('%s is progress (%s)', async (state, expected) => {
    emrMock.on(DescribeStepCommand).resolves(step(state));
    expect(await pollStep(emr(), CLUSTER, 's-1')).toEqual({ state: expected });
    expect(emrMock.commandCalls(DescribeClusterCommand)).toHaveLength(0);
  });

  const failure = {
    FailureDetails: {
      Reason: 'Unknown Error.',
      Message: 'Exception in thread "main" java.lang.OutOfMemoryError',
      LogFile: 's3://logs/j-CLUSTER/steps/s-1/stderr.gz',
    },
  };

  it('FAILED on a healthy cluster: StepFailedError with FailureDetails', async () => {
    emrMock.on(DescribeStepCommand).resolves(step('FAILED', failure));
    emrMock.on(DescribeClusterCommand).resolves(cluster('WAITING', { Message: 'Cluster ready after last step completed.' }));
    const err = await errorOf(pollStep(emr(), CLUSTER, 's-1'));
    expect(err).toBeInstanceOf(StepFailedError);
    expect(err).toMatchObject({
      name: 'StepFailedError',
      clusterId: CLUSTER,
      stepId: 's-1',
      stepState: 'FAILED',
      clusterState: 'WAITING',
      reason: 'Unknown Error.',
      detail: failure.FailureDetails.Message,
      logFile: failure.FailureDetails.LogFile,
    });
    expect((err as Error).message).toBe(
      'EMR step s-1 on cluster j-CLUSTER failed (Unknown Error.): Exception in thread "main" java.lang.OutOfMemoryError (log: s3://logs/j-CLUSTER/steps/s-1/stderr.gz)',
    );
    expect(JSON.parse(JSON.stringify(err))).toMatchObject({ name: 'StepFailedError', reason: 'Unknown Error.', logFile: failure.FailureDetails.LogFile });
  });

  it.each([
    ['TERMINATED_WITH_ERRORS', 'INSTANCE_FAILURE', 'INSTANCE_FAILURE'],
    ['TERMINATING', undefined, 'TERMINATING'],
    ['TERMINATED', 'STEP_FAILURE', 'STEP_FAILURE'],
    ['WAITING', 'INTERNAL_ERROR', 'INTERNAL_ERROR'], // a "healthy" state with a code that says otherwise
    ['RUNNING', 'INSTANCE_FAILURE', 'INSTANCE_FAILURE'],
  ] as const)('FAILED on a cluster %s (%s): ClusterUnhealthyError (%s)', async (state, code, reason) => {
    emrMock.on(DescribeStepCommand).resolves(step('FAILED', failure));
    emrMock.on(DescribeClusterCommand).resolves(cluster(state, code ? { Code: code, Message: 'instances lost' } : undefined));
    const err = await errorOf(pollStep(emr(), CLUSTER, 's-1'));
    expect(err).toBeInstanceOf(ClusterUnhealthyError);
    expect(err).toMatchObject({
      name: 'ClusterUnhealthyError',
      reason,
      clusterState: state,
      stepId: 's-1',
      stepState: 'FAILED',
      logFile: failure.FailureDetails.LogFile,
    });
  });

  it('CANCELLED or INTERRUPTED because the cluster went away: ClusterUnhealthyError', async () => {
    for (const state of ['CANCELLED', 'INTERRUPTED'] as const) {
      emrMock.on(DescribeStepCommand).resolves(step(state, { StateChangeReason: { Message: 'Cluster terminated' } }));
      emrMock.on(DescribeClusterCommand).resolves(cluster('TERMINATED_WITH_ERRORS', { Code: 'INSTANCE_FAILURE', Message: 'AZ impaired' }));
      expect(await errorOf(pollStep(emr(), CLUSTER, 's-1'))).toMatchObject({
        name: 'ClusterUnhealthyError',
        stepState: state,
        detail: 'AZ impaired; Cluster terminated',
      });
    }
  });

  it('CANCELLED on a healthy cluster (someone cancelled it): StepFailedError, reason CANCELLED', async () => {
    emrMock.on(DescribeStepCommand).resolves(step('CANCELLED'));
    emrMock.on(DescribeClusterCommand).resolves(cluster('RUNNING'));
    expect(await errorOf(pollStep(emr(), CLUSTER, 's-1'))).toMatchObject({ name: 'StepFailedError', reason: 'CANCELLED', stepState: 'CANCELLED' });
  });

  it('a failed step whose cluster no longer answers: ClusterUnhealthyError (unreachable)', async () => {
    emrMock.on(DescribeStepCommand).resolves(step('FAILED', failure));
    emrMock.on(DescribeClusterCommand).rejects(econnrefused());
    expect(await errorOf(pollStep(emr(), CLUSTER, 's-1'))).toMatchObject({
      name: 'ClusterUnhealthyError',
      reason: 'unreachable',
      stepId: 's-1',
      logFile: failure.FailureDetails.LogFile,
    });
  });

  it('DescribeStep unreachable: ClusterUnhealthyError (unreachable)', async () => {
    emrMock.on(DescribeStepCommand).rejects(new InternalServerError({ $metadata: { httpStatusCode: 500 }, message: 'Internal error' }));
    expect(await errorOf(pollStep(emr(), CLUSTER, 's-1'))).toMatchObject({ name: 'ClusterUnhealthyError', reason: 'unreachable', stepId: 's-1' });
  });

  it('an unknown step on a healthy cluster is a bug, rethrown as EMR said it', async () => {
    const unknown = new InvalidRequestException({ $metadata: {}, message: "Step id 's-1' is not valid." });
    emrMock.on(DescribeStepCommand).rejects(unknown);
    emrMock.on(DescribeClusterCommand).resolves(cluster('WAITING'));
    expect(await errorOf(pollStep(emr(), CLUSTER, 's-1'))).toBe(unknown);
  });
});

describe('checkCluster', () => {
  it.each(['WAITING', 'RUNNING', 'STARTING', 'BOOTSTRAPPING'] as const)('%s is fine', async (state) => {
    emrMock.on(DescribeClusterCommand).resolves(cluster(state));
    await expect(checkCluster(emr(), CLUSTER)).resolves.toBeUndefined();
  });

  it.each(['TERMINATING', 'TERMINATED', 'TERMINATED_WITH_ERRORS'] as const)('%s is unhealthy', async (state) => {
    emrMock.on(DescribeClusterCommand).resolves(cluster(state));
    expect(await errorOf(checkCluster(emr(), CLUSTER))).toMatchObject({ name: 'ClusterUnhealthyError', reason: state, clusterState: state });
  });

  it.each([
    ['TERMINATING', 'ALL_STEPS_COMPLETED'],
    ['TERMINATED', 'ALL_STEPS_COMPLETED'],
    ['TERMINATED', 'USER_REQUEST'],
  ] as const)('%s (%s) ended normally: ClusterEndedError, not a reason to fail over', async (state, code) => {
    emrMock.on(DescribeClusterCommand).resolves(cluster(state, { Code: code, Message: 'idle for 600 seconds' }));
    expect(await errorOf(checkCluster(emr(), CLUSTER))).toMatchObject({
      name: 'ClusterEndedError',
      reason: code,
      clusterState: state,
      detail: 'idle for 600 seconds',
    });
    // and a step cancelled with it says the same
    emrMock.on(DescribeStepCommand).resolves(step('CANCELLED', { StateChangeReason: { Message: 'Cluster terminated' } }));
    expect(await errorOf(pollStep(emr(), CLUSTER, 's-1'))).toMatchObject({ name: 'ClusterEndedError', reason: code, stepId: 's-1', stepState: 'CANCELLED' });
  });

  it('a network error or a server error is unreachable; an unknown id is not-found; throttling is rethrown', async () => {
    emrMock.on(DescribeClusterCommand).rejects(econnrefused());
    const refused = await errorOf(checkCluster(emr(), CLUSTER));
    expect(refused).toMatchObject({ name: 'ClusterUnhealthyError', reason: 'unreachable', clusterId: CLUSTER });
    expect((refused as Error).message).toBe('EMR cluster j-CLUSTER is unhealthy (unreachable): ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1');

    emrMock.reset();
    emrMock.on(DescribeClusterCommand).rejects(new InternalServerError({ $metadata: { httpStatusCode: 500 }, message: 'x' }));
    expect(await errorOf(checkCluster(emr(), CLUSTER))).toMatchObject({ reason: 'unreachable' });

    emrMock.reset();
    emrMock.on(DescribeClusterCommand).rejects(new InvalidRequestException({ $metadata: {}, message: "Cluster id 'j-CLUSTER' is not valid." }));
    expect(await errorOf(checkCluster(emr(), CLUSTER))).toMatchObject({ name: 'ClusterUnhealthyError', reason: 'not-found' });

    emrMock.reset();
    const throttled = new EMRServiceException({ name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'Rate exceeded' });
    emrMock.on(DescribeClusterCommand).rejects(throttled);
    expect(await errorOf(checkCluster(emr(), CLUSTER))).toBe(throttled);
  });
});

describe('isUnreachable', () => {
  it('recognises network errors, wrapped or aggregated, and 5xx faults', () => {
    expect(isUnreachable(econnrefused())).toBe(true);
    expect(isUnreachable(new AggregateError([econnrefused()], 'connect failed'))).toBe(true);
    expect(isUnreachable(new Error('outer', { cause: Object.assign(new Error('reset'), { code: 'ECONNRESET' }) }))).toBe(true);
    expect(isUnreachable(Object.assign(new Error('timed out'), { name: 'TimeoutError' }))).toBe(true);
    expect(isUnreachable({ name: 'ServiceUnavailable', $fault: 'server', $metadata: { httpStatusCode: 503 } })).toBe(true);
    expect(isUnreachable({ name: 'ThrottlingException', $fault: 'server', $metadata: { httpStatusCode: 500 } })).toBe(false);
    expect(isUnreachable(new InvalidRequestException({ $metadata: { httpStatusCode: 400 }, message: 'bad' }))).toBe(false);
    expect(isUnreachable(new Error('plain'))).toBe(false);
  });
});
