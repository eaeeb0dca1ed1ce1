import { randomUUID } from 'node:crypto';
import { awsJsonServer, epochSeconds, ServiceError, str } from './aws-json';
import { listenOnLoopback } from './http';
import { ExecutionAbortedError, ExecutionError, ExecutionTimeoutError, StateMachine } from 'aws-local-stepfunctions';
import { planDefinition, type InvokeLambda, type LocalPlan } from './stepfunctions-asl';

export interface LocalStepFunctionsOptions {
  region?: string;
  accountId?: string;
  /** state machine name → its ASL definition (JSONPath only) */
  stateMachines: Record<string, { definition: object }>;
  /**
   * Runs the Lambda of a Task state: `arn:aws:states:::lambda:invoke` (FunctionName and Payload from
   * the state's Parameters; the state's result is `{ Payload, StatusCode: 200 }`) or a plain Lambda
   * ARN (functionName is that ARN). A thrown Error fails the Task with error = err.name and
   * cause = err.message, so Retry/Catch match the name as they match Lambda's errorType.
   */
  invokeLambda: InvokeLambda;
  /** tests: every Wait state and every Retry interval takes 0 ms */
  /** true: Waits and Retry intervals take 0 ms; a number: Waits take that many ms, retries 0 */
  fastWaits?: boolean | number;
}

export interface LocalExecution {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  input: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';
  output?: string;
  error?: string;
  cause?: string;
  startDate: Date;
  stopDate?: Date;
}

export interface LocalStepFunctions {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  /** arn:aws:states:<region>:<account>:stateMachine:<name> */
  stateMachineArn(name: string): string;
  /** all executions, in start order */
  executions(): LocalExecution[];
  /** resolves when no execution is RUNNING (rejects after timeoutMs, default 30 s) */
  idle(timeoutMs?: number): Promise<void>;
  /** aborts what still runs and closes the server */
  stop(): Promise<void>;
}

/** An error in the AWS JSON shape, so the SDK raises its typed exception (`__type`). */

interface Machine {
  arn: string;
  name: string;
  definition: object;
  creationDate: Date;
  /** built on the first StartExecution, so one unsupported machine does not stop the others */
  runner?: { machine: StateMachine; plan: LocalPlan };
}

interface Running {
  execution: LocalExecution;
  abort?: () => void;
}

const MAX_INPUT_BYTES = 256 * 1024;
// AWS execution names: 1–80 characters, no whitespace, brackets, wildcards, these specials or
// control characters.
// biome-ignore lint/suspicious/noControlCharactersInRegex: Step Functions refuses control characters in names
const INVALID_NAME = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/;
const ARN = /^arn:[\w-]+:states:[^:]*:[^:]*:(stateMachine|execution):/;

function required(body: Record<string, unknown>, field: string): string {
  const value = str(body, field);
  if (value === undefined) throw new ServiceError('MissingRequiredParameter', `${field} is required`);
  return value;
}

/** The library's Fail state error carries made-up defaults where AWS reports nothing. */
function failureOf(err: unknown): { error?: string; cause?: string } {
  const runtime = err instanceof ExecutionError && err.cause instanceof Error ? err.cause : err instanceof Error ? err : new Error(String(err));
  if (runtime.constructor.name === 'FailStateError') {
    return {
      ...(runtime.name !== 'FailStateError' ? { error: runtime.name } : {}),
      ...(runtime.message !== 'Execution failed because of a Fail state' ? { cause: runtime.message } : {}),
    };
  }
  return { error: runtime.name, cause: runtime.message };
}

/**
 * A local AWS Step Functions behind the service's JSON protocol, so the unmodified SFNClient works
 * against it. Executions run in the background with aws-local-stepfunctions, every Task routed to
 * `invokeLambda`; execution names behave as in Standard workflows.
 */
export async function startLocalStepFunctions(options: LocalStepFunctionsOptions): Promise<LocalStepFunctions> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const stateMachineArn = (name: string) => `arn:aws:states:${region}:${accountId}:stateMachine:${name}`;
  const machines = new Map<string, Machine>();
  for (const [name, { definition }] of Object.entries(options.stateMachines)) {
    machines.set(stateMachineArn(name), { arn: stateMachineArn(name), name, definition, creationDate: new Date() });
  }
  const runs = new Map<string, Running>(); // by executionArn, in start order
  let idleWaiters: Array<() => void> = [];

  const running = () => [...runs.values()].filter((r) => r.execution.status === 'RUNNING').length;
  const settle = (run: Running, fields: Partial<LocalExecution>) => {
    // A stop that arrived first stands, whatever the still-running task later returns.
    if (run.execution.status !== 'RUNNING') return;
    Object.assign(run.execution, fields, { stopDate: new Date() });
    if (running() === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const w of waiters) w();
    }
  };

  const machineFor = (arn: string): Machine => {
    if (!ARN.test(arn)) throw new ServiceError('InvalidArn', `Invalid Arn: '${arn}'`);
    const machine = machines.get(arn);
    if (!machine) throw new ServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    return machine;
  };
  const runFor = (arn: string): Running => {
    if (!ARN.test(arn)) throw new ServiceError('InvalidArn', `Invalid Arn: '${arn}'`);
    const run = runs.get(arn);
    if (!run) throw new ServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return run;
  };
  const runnerFor = (machine: Machine) => {
    if (!machine.runner) {
      try {
        // the machine is named to each invocation: Step Functions invokes with the machine's role
        const invoke: InvokeLambda = (functionName, payload) => options.invokeLambda(functionName, payload, { stateMachine: machine.name });
        const plan = planDefinition(machine.definition, invoke, options.fastWaits ?? false);
        machine.runner = { plan, machine: new StateMachine(plan.definition, { validationOptions: { checkPaths: true, checkArn: true } }) };
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        throw new ServiceError('InvalidDefinition', `state machine ${machine.name}: ${message}`);
      }
    }
    return machine.runner;
  };

  // Everything from the checks to registering the execution is synchronous, so concurrent
  // requests with one name cannot both start it.
  const startExecution = (body: Record<string, unknown>) => {
    const machine = machineFor(required(body, 'stateMachineArn'));
    const name = str(body, 'name') ?? randomUUID();
    if (name.length < 1 || name.length > 80 || INVALID_NAME.test(name)) throw new ServiceError('InvalidName', `Invalid Name: '${name}'`);
    const input = str(body, 'input') ?? '{}';
    if (Buffer.byteLength(input) > MAX_INPUT_BYTES) throw new ServiceError('InvalidExecutionInput', 'Execution input exceeds 262144 bytes');
    let parsed: unknown;
    try {
      parsed = JSON.parse(input);
    } catch {
      throw new ServiceError('InvalidExecutionInput', `Invalid execution input: not JSON`);
    }
    const executionArn = `arn:aws:states:${region}:${accountId}:execution:${machine.name}:${name}`;
    const existing = runs.get(executionArn);
    if (existing) {
      // Standard workflows: the same name and input while running is the same execution.
      if (existing.execution.status === 'RUNNING' && existing.execution.input === input) {
        return { executionArn, startDate: epochSeconds(existing.execution.startDate) };
      }
      throw new ServiceError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    const runner = runnerFor(machine);
    const execution: LocalExecution = { executionArn, stateMachineArn: machine.arn, name, input, status: 'RUNNING', startDate: new Date() };
    const run: Running = { execution };
    runs.set(executionArn, run);
    const handle = runner.machine.run(parsed as Parameters<StateMachine['run']>[0], {
      overrides: runner.plan.overrides,
      context: { Execution: { Id: executionArn, Name: name }, StateMachine: { Id: machine.arn, Name: machine.name } },
    });
    run.abort = handle.abort;
    handle.result.then(
      (output) => settle(run, { status: 'SUCCEEDED', output: JSON.stringify(output ?? null) }),
      (err: unknown) => {
        if (err instanceof ExecutionAbortedError) settle(run, { status: 'ABORTED' });
        else if (err instanceof ExecutionTimeoutError) settle(run, { status: 'TIMED_OUT' });
        else settle(run, { status: 'FAILED', ...failureOf(err) });
      },
    );
    return { executionArn, startDate: epochSeconds(execution.startDate) };
  };

  const summary = (e: LocalExecution) => ({
    executionArn: e.executionArn,
    stateMachineArn: e.stateMachineArn,
    name: e.name,
    status: e.status,
    startDate: epochSeconds(e.startDate),
    stopDate: epochSeconds(e.stopDate),
  });

  const operations: Record<string, (body: Record<string, unknown>) => object | Promise<object>> = {
    StartExecution: startExecution,
    DescribeExecution: (body) => {
      const e = runFor(required(body, 'executionArn')).execution;
      return {
        ...summary(e),
        input: e.input,
        inputDetails: { included: true },
        output: e.output,
        outputDetails: e.output === undefined ? undefined : { included: true },
        error: e.error,
        cause: e.cause,
      };
    },
    ListExecutions: (body) => {
      const machine = machineFor(required(body, 'stateMachineArn'));
      const status = str(body, 'statusFilter');
      const list = [...runs.values()].map((r) => r.execution).filter((e) => e.stateMachineArn === machine.arn && (!status || e.status === status));
      // AWS lists the most recent first; everything fits in one page here.
      return { executions: list.reverse().map(summary) };
    },
    StopExecution: (body) => {
      const run = runFor(required(body, 'executionArn'));
      const [error, cause] = [str(body, 'error'), str(body, 'cause')];
      settle(run, { status: 'ABORTED', ...(error !== undefined ? { error } : {}), ...(cause !== undefined ? { cause } : {}) });
      run.abort?.();
      return { stopDate: epochSeconds(run.execution.stopDate) };
    },
    DescribeStateMachine: (body) => {
      const m = machineFor(required(body, 'stateMachineArn'));
      return {
        stateMachineArn: m.arn,
        name: m.name,
        status: 'ACTIVE',
        definition: JSON.stringify(m.definition),
        roleArn: `arn:aws:iam::${accountId}:role/${m.name}-role`,
        type: 'STANDARD',
        creationDate: epochSeconds(m.creationDate),
      };
    },
    ListStateMachines: () => ({
      stateMachines: [...machines.values()].map((m) => ({
        stateMachineArn: m.arn,
        name: m.name,
        type: 'STANDARD',
        creationDate: epochSeconds(m.creationDate),
      })),
    }),
  };

  const server = awsJsonServer({ targetPrefix: 'AWSStepFunctions.', version: '1.0', operations, internalErrorType: 'InternalFailure' });
  const listening = await listenOnLoopback(server);

  return {
    endpoint: listening.endpoint,
    stateMachineArn,
    executions: () => [...runs.values()].map((r) => r.execution),
    idle(timeoutMs = 30_000) {
      if (running() === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          idleWaiters = idleWaiters.filter((w) => w !== done);
          reject(new Error(`local Step Functions: ${running()} execution(s) still running after ${timeoutMs} ms`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          resolve();
        };
        idleWaiters.push(done);
      });
    },
    async stop() {
      for (const run of runs.values()) {
        if (run.execution.status !== 'RUNNING') continue;
        settle(run, { status: 'ABORTED', cause: 'local Step Functions stopped' });
        run.abort?.();
      }
      await listening.close();
    },
  };
}
