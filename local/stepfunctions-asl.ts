import type { RunOptions, StateMachineDefinition } from 'aws-local-stepfunctions';

type Overrides = NonNullable<RunOptions['overrides']>;
type TaskHandler = NonNullable<Overrides['taskResourceLocalHandlers']>[string];
type JsonValue = Awaited<ReturnType<TaskHandler>>;
/** `caller`: the state machine whose Task invokes (the local Step Functions names it) */
export type InvokeLambda = (functionName: string, payload: unknown, caller?: { stateMachine: string }) => Promise<unknown>;

/** How one definition runs locally: a patched copy of it and the per-state overrides. */
export interface LocalPlan {
  definition: StateMachineDefinition;
  overrides: Overrides;
}

/** A definition the local runner cannot run as AWS would (reported as InvalidDefinition). */
export class UnsupportedDefinition extends Error {
  override name = 'UnsupportedDefinition';
}

/** An error a Task reports; Retry and Catch match `name`, as they match Lambda's errorType. */
class TaskError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

const LAMBDA_INVOKE = /^arn:[\w-]+:states:::lambda:invoke$/;
const LAMBDA_ARN = /^arn:[\w-]+:lambda:[^:]*:[^:]*:function:[^:]+(:[^:]+)?$/;
// aws-local-stepfunctions fails a Task after 60 s unless it has TimeoutSeconds; a Standard
// workflow's Task has no default timeout. This is the longest a Node timer can wait (2^31-1 ms).
const NO_TASK_TIMEOUT_SECONDS = 2_147_483;

// Fields the library never reads (JSONata's Arguments/Output, variables, Distributed Map's extras).
const UNSUPPORTED_FIELDS = [
  'Assign',
  'Arguments',
  'Output',
  'ItemReader',
  'ItemBatcher',
  'ResultWriter',
  'ToleratedFailureCount',
  'ToleratedFailureCountPath',
  'ToleratedFailurePercentage',
  'ToleratedFailurePercentagePath',
];

type State = Record<string, unknown> & { Type: string };
type Scope = { States: Record<string, State> };

/** What a Lambda returns, as it arrives after a trip through JSON (undefined becomes null). */
function overTheWire(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value ?? null)) as JsonValue;
}

function taskHandler(stateName: string, state: State, invokeLambda: InvokeLambda): TaskHandler {
  const resource = String(state.Resource);
  const call = async (functionName: string, payload: unknown): Promise<JsonValue> => {
    try {
      return overTheWire(await invokeLambda(functionName, overTheWire(payload)));
    } catch (err) {
      throw err instanceof Error ? new TaskError(err.name, err.message) : new TaskError('Error', String(err));
    }
  };
  if (LAMBDA_ARN.test(resource)) return (input) => call(resource, input);
  if (!LAMBDA_INVOKE.test(resource)) {
    throw new UnsupportedDefinition(`unsupported resource ${resource} in state "${stateName}": the local Step Functions runs Lambda tasks only`);
  }
  const params = state.Parameters as Record<string, unknown> | undefined;
  if (!params || !('FunctionName' in params || 'FunctionName.$' in params)) {
    throw new UnsupportedDefinition(`state "${stateName}" invokes lambda:invoke without Parameters.FunctionName`);
  }
  // lambda:invoke hands the task {FunctionName, Payload} and its result is Lambda's Invoke response.
  return async (input) => {
    const { FunctionName, Payload } = (input ?? {}) as { FunctionName?: unknown; Payload?: unknown };
    if (typeof FunctionName !== 'string') throw new TaskError('States.Runtime', `state "${stateName}": FunctionName is not a string`);
    return { Payload: await call(FunctionName, Payload ?? {}), StatusCode: 200 };
  };
}

/**
 * Routes every Task to `invokeLambda` and, with fastWaits, zeroes every Retry interval and shortens
 * every Wait to `fastWaits` ms (true: 0; a number keeps polling loops from spinning).
 * The library keys its overrides by state name and applies them inside Map and Parallel too, so
 * the walk covers nested scopes (state names are unique across a whole machine in AWS as well).
 */
export function planDefinition(definition: object, invokeLambda: InvokeLambda, fastWaits: boolean | number): LocalPlan {
  const copy = structuredClone(definition) as StateMachineDefinition & { QueryLanguage?: string };
  const taskResourceLocalHandlers: Record<string, TaskHandler> = {};
  const waitTimeOverrides: Record<string, number> = {};
  const retryIntervalOverrides: Record<string, number> = {};
  const seen = new Set<string>();

  const visit = (scope: Scope): void => {
    for (const [name, state] of Object.entries(scope.States ?? {})) {
      if (seen.has(name)) throw new UnsupportedDefinition(`state name "${name}" is used twice`);
      seen.add(name);
      // The library ignores JSONata and Assign silently: refuse rather than run something else.
      if (state.QueryLanguage === 'JSONata') throw new UnsupportedDefinition(`state "${name}" uses JSONata: the local Step Functions runs JSONPath only`);
      const field = UNSUPPORTED_FIELDS.find((f) => f in state);
      if (field) throw new UnsupportedDefinition(`state "${name}" uses ${field}, which the local Step Functions does not run`);
      if (state.Type === 'Task') {
        taskResourceLocalHandlers[name] = taskHandler(name, state, invokeLambda);
        if (state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined) state.TimeoutSeconds = NO_TASK_TIMEOUT_SECONDS;
      }
      if (fastWaits !== false && state.Type === 'Wait') waitTimeOverrides[name] = typeof fastWaits === 'number' ? fastWaits : 0;
      if (fastWaits !== false && Array.isArray(state.Retry)) retryIntervalOverrides[name] = 0;
      if (state.Type === 'Map') visit((state.ItemProcessor ?? state.Iterator) as Scope);
      if (state.Type === 'Parallel') for (const branch of (state.Branches ?? []) as Scope[]) visit(branch);
    }
  };
  if (copy.QueryLanguage === 'JSONata') throw new UnsupportedDefinition('the definition uses JSONata: the local Step Functions runs JSONPath only');
  visit(copy as unknown as Scope);
  return { definition: copy, overrides: { taskResourceLocalHandlers, waitTimeOverrides, retryIntervalOverrides } };
}
