import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenOnLoopback, readBody } from './http';

export type ControlState = 'On' | 'Off';

/**
 * Extra endpoint faults (besides takeDown and throttle):
 * - `unavailable`: answers 503 EndpointTemporarilyUnavailableException
 * - `stall`: accepts the request and never answers (a hung AZ; the client must time out)
 * - `reset-after-apply`: performs an update, then drops the connection instead of answering (the
 *   caller cannot know whether its update happened); reads are answered normally
 */
export type ArcFault = 'unavailable' | 'stall' | 'reset-after-apply';

/** One request an endpoint received, as it was handled. */
export interface ArcCall {
  /** index into `endpoints` */
  endpoint: number;
  /** e.g. UpdateRoutingControlStates (from X-Amz-Target) */
  operation: string;
  /** the parsed JSON body */
  input: unknown;
  /** HTTP status sent (0: no answer, stalled or connection dropped) */
  status: number;
  /** the `__type` answered, if the request failed */
  error?: string;
}

export interface LocalArc {
  /** five http://127.0.0.1:<port>, one state behind them */
  endpoints: string[];
  /** arn:aws:route53-recovery-control::000000000000:controlpanel/<id> */
  controlPanelArn: string;
  /** the assertion rule "exactly one routing control On"; SafetyRulesToOverride with it bypasses the rule */
  safetyRuleArn: string;
  /** arn:aws:route53-recovery-control::000000000000:controlpanel/<id>/routingcontrol/<cluster> */
  controlArn(cluster: string): string;
  /** by cluster name */
  states(): Record<string, ControlState>;
  /** closes endpoint i's server: connections to it are refused until bringUp(i) (same port) */
  takeDown(i: number): Promise<void>;
  bringUp(i: number): Promise<void>;
  /** endpoint i answers every request with 429 ThrottlingException while on */
  throttle(i: number, on: boolean): void;
  /** sets (or clears, with undefined) an extra fault on endpoint i */
  fault(i: number, fault: ArcFault | undefined): void;
  /** requests received, per endpoint (refused connections never arrive, so they do not count) */
  requests(): number[];
  /** every request received, in arrival order */
  calls(): ArcCall[];
  stop(): Promise<void>;
}

export interface LocalArcOptions {
  /** one routing control per cluster, named after it */
  clusters: string[];
  /** the cluster whose routing control starts On (all others start Off) */
  active: string;
  /** the region requests must be signed for (default us-east-1) */
  region?: string;
  accountId?: string;
}

const ENDPOINT_COUNT = 5;
const TARGET_PREFIX = 'ToggleCustomerAPI.';
const SIGNING_NAME = 'route53-recovery-cluster';
// The service's constraints on ARNs (1–256 characters of this set) and names.
const ARN = /^[A-Za-z0-9:./_-]{1,256}$/;
const CONTROL_NAME = /^\S{1,64}$/;
const MAX_LIST_RESULTS = 1000;

/** An error in the AWS JSON shape; `type` is the `__type` the SDK maps to its typed exception. */
class ServiceError extends Error {
  constructor(
    readonly type: string,
    readonly status: number,
    message: string,
    readonly fields: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function validation(reason: 'cannotParse' | 'fieldValidationFailed' | 'unknownOperation' | 'other', message: string, field?: string): ServiceError {
  return new ServiceError('ValidationException', 400, message, {
    reason,
    ...(field ? { fields: [{ name: field, message }] } : {}),
  });
}

function requiredString(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (value === undefined || value === null) {
    throw validation(
      'fieldValidationFailed',
      `1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`,
      field,
    );
  }
  if (typeof value !== 'string') throw validation('fieldValidationFailed', `Value at '${field}' must be a string`, field);
  return value;
}

function arnField(body: Record<string, unknown>, field: string): string {
  const value = requiredString(body, field);
  if (!ARN.test(value)) {
    throw validation(
      'fieldValidationFailed',
      `1 validation error detected: Value '${value}' at '${field}' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[A-Za-z0-9:.\\/_-]*$`,
      field,
    );
  }
  return value;
}

function stateField(body: Record<string, unknown>, field: string): ControlState {
  const value = requiredString(body, field);
  if (value !== 'On' && value !== 'Off') {
    throw validation(
      'fieldValidationFailed',
      `1 validation error detected: Value '${value}' at '${field}' failed to satisfy constraint: Member must satisfy enum value set: [On, Off]`,
      field,
    );
  }
  return value;
}

function stringList(body: Record<string, unknown>, field: string): string[] {
  const value = body[field];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
    throw validation('fieldValidationFailed', `Value at '${field}' must be a list of strings`, field);
  return value as string[];
}

interface Endpoint {
  server: Server;
  port: number;
  url: string;
  close: () => Promise<void>;
  up: boolean;
  throttled: boolean;
  fault?: ArcFault;
  requests: number;
}

/**
 * A local Route 53 ARC cluster (the Route53RecoveryCluster data plane): five endpoints on
 * 127.0.0.1 sharing one set of routing control states, guarded by one assertion rule "exactly one
 * On". The installed @aws-sdk/client-route53-recovery-cluster speaks awsJson1_0 (POST /,
 * `X-Amz-Target: ToggleCustomerAPI.<Operation>`, SigV4 signing name route53-recovery-cluster), so
 * this does too, and answers errors as `{ __type, message, ... }` so the SDK raises its typed
 * exceptions. Every update is checked and applied synchronously, so it is atomic with respect to
 * every other request on any endpoint.
 */
export async function startLocalArc(options: LocalArcOptions): Promise<LocalArc> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const clusters = [...options.clusters];
  if (clusters.length === 0) throw new Error('local ARC: at least one cluster is needed');
  for (const name of clusters) if (!CONTROL_NAME.test(name) || name.includes('/')) throw new Error(`local ARC: invalid cluster name '${name}'`);
  if (new Set(clusters).size !== clusters.length) throw new Error('local ARC: cluster names must be unique');
  if (!clusters.includes(options.active)) throw new Error(`local ARC: active cluster '${options.active}' is not one of ${clusters.join(', ')}`);

  const controlPanelId = randomBytes(16).toString('hex');
  const controlPanelArn = `arn:aws:route53-recovery-control::${accountId}:controlpanel/${controlPanelId}`;
  const controlPanelName = 'landfall-emr';
  const safetyRuleArn = `${controlPanelArn}/safetyrule/${randomBytes(16).toString('hex')}`;
  const safetyRuleName = 'exactly-one-cluster-on';
  const controlArn = (cluster: string) => `${controlPanelArn}/routingcontrol/${cluster}`;

  // by routing control ARN, in configuration order
  const state = new Map<string, { name: string; state: ControlState }>(
    clusters.map((name) => [controlArn(name), { name, state: name === options.active ? 'On' : 'Off' }]),
  );
  const log: ArcCall[] = [];

  const control = (arn: string) => {
    const found = state.get(arn);
    if (!found)
      throw new ServiceError('ResourceNotFoundException', 404, `Resource not found: routing control ${arn}`, {
        resourceId: arn,
        resourceType: 'RoutingControl',
      });
    return found;
  };

  /** Checks the whole change, then applies it: all or nothing. */
  const apply = (changes: Array<{ arn: string; state: ControlState }>, overrides: string[]) => {
    for (const arn of overrides) {
      if (arn !== safetyRuleArn) throw validation('fieldValidationFailed', `Safety rule ${arn} does not exist in this cluster`, 'SafetyRulesToOverride');
    }
    const next = new Map([...state].map(([arn, c]) => [arn, c.state]));
    for (const change of changes) {
      control(change.arn);
      next.set(change.arn, change.state);
    }
    const on = [...next.values()].filter((s) => s === 'On').length;
    if (on !== 1 && !overrides.includes(safetyRuleArn)) {
      throw new ServiceError(
        'ConflictException',
        409,
        `Cannot update routing control states: safety rule ${safetyRuleArn} (${safetyRuleName}: exactly one of ${clusters.join(', ')} must be On) would be violated, the update leaves ${on} On`,
        { resourceId: safetyRuleArn, resourceType: 'SafetyRule' },
      );
    }
    for (const change of changes) control(change.arn).state = change.state;
  };

  const describe = (arn: string) => {
    const c = control(arn);
    return {
      ControlPanelArn: controlPanelArn,
      ControlPanelName: controlPanelName,
      RoutingControlArn: arn,
      RoutingControlName: c.name,
      RoutingControlState: c.state,
      Owner: accountId,
    };
  };

  const operations: Record<string, (body: Record<string, unknown>) => object> = {
    GetRoutingControlState: (body) => {
      const arn = arnField(body, 'RoutingControlArn');
      const c = control(arn);
      return { RoutingControlArn: arn, RoutingControlState: c.state, RoutingControlName: c.name };
    },
    UpdateRoutingControlState: (body) => {
      const arn = arnField(body, 'RoutingControlArn');
      apply([{ arn, state: stateField(body, 'RoutingControlState') }], stringList(body, 'SafetyRulesToOverride'));
      return {};
    },
    UpdateRoutingControlStates: (body) => {
      const entries = body.UpdateRoutingControlStateEntries;
      if (entries === undefined || entries === null) {
        throw validation(
          'fieldValidationFailed',
          `1 validation error detected: Value null at 'UpdateRoutingControlStateEntries' failed to satisfy constraint: Member must not be null`,
          'UpdateRoutingControlStateEntries',
        );
      }
      if (!Array.isArray(entries) || entries.length === 0) {
        throw validation('fieldValidationFailed', 'UpdateRoutingControlStateEntries must be a non-empty list', 'UpdateRoutingControlStateEntries');
      }
      const changes = entries.map((entry: unknown) => {
        if (typeof entry !== 'object' || entry === null)
          throw validation('fieldValidationFailed', 'Each entry must be an object', 'UpdateRoutingControlStateEntries');
        const e = entry as Record<string, unknown>;
        return { arn: arnField(e, 'RoutingControlArn'), state: stateField(e, 'RoutingControlState') };
      });
      const seen = new Set<string>();
      for (const { arn } of changes) {
        if (seen.has(arn))
          throw validation(
            'fieldValidationFailed',
            `Routing control ${arn} appears more than once in UpdateRoutingControlStateEntries`,
            'UpdateRoutingControlStateEntries',
          );
        seen.add(arn);
      }
      apply(changes, stringList(body, 'SafetyRulesToOverride'));
      return {};
    },
    ListRoutingControls: (body) => {
      const panel = body.ControlPanelArn === undefined || body.ControlPanelArn === null ? undefined : arnField(body, 'ControlPanelArn');
      if (panel !== undefined && panel !== controlPanelArn) {
        throw new ServiceError('ResourceNotFoundException', 404, `Resource not found: control panel ${panel}`, {
          resourceId: panel,
          resourceType: 'ControlPanel',
        });
      }
      const max = body.MaxResults ?? MAX_LIST_RESULTS;
      if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > MAX_LIST_RESULTS) {
        throw validation(
          'fieldValidationFailed',
          `1 validation error detected: Value '${String(max)}' at 'MaxResults' failed to satisfy constraint: Member must be between 1 and ${MAX_LIST_RESULTS}`,
          'MaxResults',
        );
      }
      const token = body.NextToken;
      const start = token === undefined || token === null ? 0 : Number(token);
      if (!Number.isInteger(start) || start < 0 || start > state.size) throw validation('fieldValidationFailed', 'Invalid NextToken', 'NextToken');
      const arns = [...state.keys()];
      const page = arns.slice(start, start + max);
      return { RoutingControls: page.map(describe), ...(start + max < arns.length ? { NextToken: String(start + max) } : {}) };
    },
  };

  /** A SigV4 Authorization header scoped to this region and service (the signature is not verified). */
  const checkSignature = (req: IncomingMessage) => {
    const auth = String(req.headers.authorization ?? '');
    if (!auth.startsWith('AWS4-HMAC-SHA256 ')) throw new ServiceError('MissingAuthenticationTokenException', 403, 'Missing Authentication Token');
    const scope = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(auth);
    if (!scope || scope[1] !== region || scope[2] !== SIGNING_NAME) {
      throw new ServiceError(
        'InvalidSignatureException',
        403,
        `Credential should be scoped to a valid region and service: expected ${region}/${SIGNING_NAME}, got ${scope ? `${scope[1]}/${scope[2]}` : 'none'}`,
      );
    }
  };

  const send = (res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID(), ...headers });
    res.end(JSON.stringify(body));
  };
  const sendError = (res: ServerResponse, err: ServiceError) =>
    send(res, err.status, { __type: err.type, message: err.message, ...err.fields }, { 'x-amzn-errortype': err.type, ...err.headers });

  const handler = (index: number) => (req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const endpoint = endpoints[index]!;
      endpoint.requests++;
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target;
      const call: ArcCall = { endpoint: index, operation, input: undefined, status: 0 };
      log.push(call);
      const answer = (status: number, body: object, headers?: Record<string, string>) => {
        call.status = status;
        send(res, status, body, headers);
      };
      const fail = (err: ServiceError) => {
        call.status = err.status;
        call.error = err.type;
        sendError(res, err);
      };
      try {
        const raw = await readBody(req);
        try {
          call.input = JSON.parse(raw || '{}');
        } catch {
          call.input = raw;
        }
        // Faults come first: a throttling or impaired endpoint does not look at the request.
        if (endpoint.throttled) throw new ServiceError('ThrottlingException', 429, 'Rate exceeded', {}, { 'retry-after': '1' });
        if (endpoint.fault === 'unavailable')
          throw new ServiceError('EndpointTemporarilyUnavailableException', 503, "The cluster endpoint isn't available. Try another cluster endpoint.");
        if (endpoint.fault === 'stall') return; // never answered; closed by takeDown or stop
        checkSignature(req);
        const op = target.startsWith(TARGET_PREFIX) ? operations[operation] : undefined;
        if (req.method !== 'POST' || !op) throw validation('unknownOperation', `Unknown operation ${target || '(no X-Amz-Target)'}`);
        const body = call.input;
        if (typeof body !== 'object' || body === null || Array.isArray(body)) throw validation('cannotParse', 'Request body is not a JSON object');
        const result = op(body as Record<string, unknown>);
        if (endpoint.fault === 'reset-after-apply' && operation.startsWith('Update')) {
          req.socket.destroy();
          return;
        }
        answer(200, result);
      } catch (err) {
        fail(err instanceof ServiceError ? err : new ServiceError('InternalServerException', 500, err instanceof Error ? err.message : String(err)));
      }
    })();
  };

  const endpoints: Endpoint[] = [];
  try {
    for (let i = 0; i < ENDPOINT_COUNT; i++) {
      const server = createServer(handler(i));
      const listening = await listenOnLoopback(server);
      endpoints.push({
        server,
        port: Number(new URL(listening.endpoint).port),
        url: listening.endpoint,
        close: listening.close,
        up: true,
        throttled: false,
        requests: 0,
      });
    }
  } catch (err) {
    await Promise.all(endpoints.map((e) => e.close()));
    throw err;
  }

  const at = (i: number): Endpoint => {
    const endpoint = endpoints[i];
    if (!endpoint) throw new RangeError(`local ARC: no endpoint ${i} (there are ${endpoints.length})`);
    return endpoint;
  };

  return {
    endpoints: endpoints.map((e) => e.url),
    controlPanelArn,
    safetyRuleArn,
    controlArn,
    states: () => Object.fromEntries([...state.values()].map((c) => [c.name, c.state])),
    async takeDown(i) {
      const endpoint = at(i);
      if (!endpoint.up) return;
      endpoint.up = false;
      await endpoint.close();
    },
    async bringUp(i) {
      const endpoint = at(i);
      if (endpoint.up) return;
      // The same port again, so clients configured with this endpoint reach it.
      await new Promise<void>((resolve, reject) => {
        endpoint.server.once('error', reject);
        endpoint.server.listen(endpoint.port, '127.0.0.1', () => {
          endpoint.server.off('error', reject);
          resolve();
        });
      });
      endpoint.up = true;
    },
    throttle(i, on) {
      at(i).throttled = on;
    },
    fault(i, fault) {
      at(i).fault = fault;
    },
    requests: () => endpoints.map((e) => e.requests),
    calls: () => log.map((c) => ({ ...c })),
    async stop() {
      await Promise.all(
        endpoints.map(async (e) => {
          if (!e.up) return;
          e.up = false;
          await e.close();
        }),
      );
    },
  };
}
