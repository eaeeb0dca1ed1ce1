import {
  EndpointTemporarilyUnavailableException,
  GetRoutingControlStateCommand,
  InternalServerException,
  Route53RecoveryClusterClient,
  ThrottlingException,
  UpdateRoutingControlStatesCommand,
} from '@aws-sdk/client-route53-recovery-cluster';
import { ArcConfigError, InconsistentRoutingError, NoArcEndpointError, type EndpointFailure } from './errors';

export { ArcConfigError, InconsistentRoutingError, NoArcEndpointError, type EndpointFailure } from './errors';

export interface ArcCells {
  /** one routing control per cell (an Availability Zone); failover needs exactly two, in one control panel */
  cells: Array<{ name: string; routingControlArn: string }>;
  /** the ARC cluster's regional endpoints (five in AWS) */
  endpoints: string[];
  /** the region of those endpoints: requests are signed for it */
  region: string;
}

/** What a flip did, for the caller to record durably. */
export interface FlipRecord {
  from: string;
  to: string;
  /** ISO-8601, when the update was acknowledged (or, if unconfirmed, when it was observed) */
  at: string;
  reason: string;
  /** the endpoint that took the update (or, if unconfirmed, the one that showed it) */
  endpoint: string;
  /**
   * false when this router's update got no answer (connection dropped, time-out, 5xx) and a later
   * read on another endpoint showed the flip in place: most likely this update, but a concurrent
   * caller cannot be ruled out. Recorded anyway, so that no flip goes unrecorded.
   */
  confirmed: boolean;
}

export type FailoverResult = ({ flipped: true } & FlipRecord) | { flipped: false; active: string };

export interface ArcRouterOptions {
  /** the client for one endpoint (default: `new Route53RecoveryClusterClient({ endpoint, region, maxAttempts: 1 })`) */
  clientFor?: (endpoint: string) => Route53RecoveryClusterClient;
  /** rounds through all the endpoints before giving up (default 1: each endpoint once) */
  maxAttemptsPerEndpoint?: number;
  /** a request that takes longer is abandoned and the next endpoint tried (default 3000 ms) */
  requestTimeoutMs?: number;
  /** pause before each further round, doubled per round (default 100 ms) */
  roundBackoffMs?: number;
  /** awaited after a successful flip, before failover() returns */
  onFlip?: (record: FlipRecord) => Promise<void> | void;
  /** picks the endpoint to start from (default Math.random) */
  random?: () => number;
}

type ControlState = 'On' | 'Off';

/** How often a read that shows zero or two controls On is repeated before it counts (a flip may have landed between two reads). */
const CONSISTENT_READ_TRIES = 3;

/** An endpoint that answered this tells the truth; another endpoint would say the same. */
function isEndpointFailure(err: unknown): boolean {
  if (err instanceof ThrottlingException || err instanceof EndpointTemporarilyUnavailableException || err instanceof InternalServerException) return true;
  if (typeof err !== 'object' || err === null) return true;
  const e = err as { name?: unknown; $fault?: unknown; $metadata?: { httpStatusCode?: number } };
  // A service answer with a client fault (ValidationException, ResourceNotFoundException,
  // AccessDeniedException, ConflictException for a safety rule …) is final; anything else —
  // connection refused or reset, time-out, abort, an unmodelled 5xx — is this endpoint's trouble.
  if (e.$fault === 'client') return false;
  return true;
}

function describeFailure(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  const name = typeof code === 'string' && code !== err.name ? `${err.name} ${code}` : err.name;
  return `${name}: ${err.message}`;
}

// Failovers of one pair of routing controls run one at a time within a process: ARC has no
// conditional update, so two concurrent "A Off, B On" updates would both succeed and both look
// like the flip. Across processes the caller must serialize (e.g. with a conditional write).
const failoverQueues = new Map<string, Promise<unknown>>();

function serialized<T>(key: string, task: () => Promise<T>): Promise<T> {
  const previous = failoverQueues.get(key) ?? Promise.resolve();
  const run = previous.then(task, task);
  const tail = run.catch(() => undefined);
  failoverQueues.set(key, tail);
  void tail.then(() => {
    if (failoverQueues.get(key) === tail) failoverQueues.delete(key);
  });
  return run;
}

/**
 * The orchestration's view of the ARC routing controls that say which cell (and so which EMR cluster) is active.
 * Every call rotates through the cluster endpoints, starting at a random one, until one answers;
 * one SDK client per endpoint with the SDK's own retries off, so a dead endpoint costs one
 * attempt, not three.
 */
export class ArcRouter {
  private readonly clients = new Map<string, Route53RecoveryClusterClient>();
  private readonly owned = new Set<Route53RecoveryClusterClient>();
  private readonly maxAttempts: number;
  private readonly timeoutMs: number;
  private readonly backoffMs: number;
  private readonly random: () => number;

  constructor(
    private readonly config: ArcCells,
    private readonly options: ArcRouterOptions = {},
  ) {
    if (config.cells.length === 0) throw new ArcConfigError('ARC configuration: cells must not be empty');
    if (config.endpoints.length === 0) throw new ArcConfigError('ARC configuration: endpoints must not be empty');
    const names = config.cells.map((c) => c.name);
    const arns = config.cells.map((c) => c.routingControlArn);
    if (new Set(names).size !== names.length) throw new ArcConfigError(`ARC configuration: cell names must be unique (${names.join(', ')})`);
    if (new Set(arns).size !== arns.length) throw new ArcConfigError('ARC configuration: each cell needs its own routing control');
    this.maxAttempts = Math.max(1, Math.floor(options.maxAttemptsPerEndpoint ?? 1));
    this.timeoutMs = options.requestTimeoutMs ?? 3000;
    this.backoffMs = options.roundBackoffMs ?? 100;
    this.random = options.random ?? Math.random;
  }

  /** The cell whose routing control is On. */
  async activeCell(): Promise<string> {
    return this.rotate('read the active cell', async (client) => activeOf(await this.consistentStates(client)));
  }

  /**
   * Fails over from `from` to the other cell with one UpdateRoutingControlStates call (from Off,
   * to On), after re-reading the states on the same endpoint; does nothing when `from` is no longer
   * active.
   */
  async failover(from: string, reason: string): Promise<FailoverResult> {
    if (this.config.cells.length !== 2) {
      throw new ArcConfigError(
        `ARC failover needs exactly two cells, the configuration has ${this.config.cells.length} (${this.config.cells.map((c) => c.name).join(', ')})`,
      );
    }
    const source = this.config.cells.find((c) => c.name === from);
    if (!source) throw new ArcConfigError(`ARC failover: '${from}' is not a configured cell (${this.config.cells.map((c) => c.name).join(', ')})`);
    if (reason.trim() === '') throw new ArcConfigError('ARC failover: a reason is required (every flip is recorded with its reason)');
    const target = this.config.cells.find((c) => c !== source)!;
    const key = this.config.cells
      .map((c) => c.routingControlArn)
      .sort()
      .join('|');

    return serialized(key, async () => {
      let unanswered = false; // an update was sent and its outcome is unknown
      const result = await this.rotate(`fail over from ${from} to ${target.name}`, async (client, endpoint): Promise<FailoverResult> => {
        const active = activeOf(await this.consistentStates(client));
        if (active !== from) {
          if (unanswered && active === target.name) {
            return { flipped: true, from, to: target.name, at: new Date().toISOString(), reason, endpoint, confirmed: false };
          }
          return { flipped: false, active };
        }
        try {
          await client.send(
            new UpdateRoutingControlStatesCommand({
              UpdateRoutingControlStateEntries: [
                { RoutingControlArn: source.routingControlArn, RoutingControlState: 'Off' },
                { RoutingControlArn: target.routingControlArn, RoutingControlState: 'On' },
              ],
            }),
            this.timeout(),
          );
        } catch (err) {
          if (isEndpointFailure(err)) unanswered = true;
          throw err;
        }
        return { flipped: true, from, to: target.name, at: new Date().toISOString(), reason, endpoint, confirmed: true };
      });
      if (result.flipped) {
        const { flipped: _, ...record } = result;
        await this.options.onFlip?.(record);
      }
      return result;
    });
  }

  /** Destroys the clients this router created (not those from `clientFor`). */
  destroy(): void {
    for (const client of this.owned) client.destroy();
    this.owned.clear();
    this.clients.clear();
  }

  private client(endpoint: string): Route53RecoveryClusterClient {
    let client = this.clients.get(endpoint);
    if (!client) {
      if (this.options.clientFor) {
        client = this.options.clientFor(endpoint);
      } else {
        client = new Route53RecoveryClusterClient({ endpoint, region: this.config.region, maxAttempts: 1 });
        this.owned.add(client);
      }
      this.clients.set(endpoint, client);
    }
    return client;
  }

  /** per request: a hung endpoint is abandoned after requestTimeoutMs */
  private timeout() {
    return { abortSignal: AbortSignal.timeout(this.timeoutMs) };
  }

  /** The states of all configured controls as one endpoint reports them. */
  private async states(client: Route53RecoveryClusterClient): Promise<Record<string, ControlState>> {
    const states: Record<string, ControlState> = {};
    for (const { name, routingControlArn } of this.config.cells) {
      const out = await client.send(new GetRoutingControlStateCommand({ RoutingControlArn: routingControlArn }), this.timeout());
      const state = out.RoutingControlState;
      if (state !== 'On' && state !== 'Off') throw new Error(`ARC answered state '${String(state)}' for ${routingControlArn}`);
      states[name] = state;
    }
    return states;
  }

  /**
   * The controls are read one by one, so a flip landing between two reads shows both On or both
   * Off; such a read is repeated before it is believed.
   */
  private async consistentStates(client: Route53RecoveryClusterClient): Promise<Record<string, ControlState>> {
    let states = await this.states(client);
    for (let i = 1; i < CONSISTENT_READ_TRIES && onCount(states) !== 1; i++) states = await this.states(client);
    return states;
  }

  /** Runs `attempt` on one endpoint after another (from a random start) until one answers. */
  private async rotate<T>(operation: string, attempt: (client: Route53RecoveryClusterClient, endpoint: string) => Promise<T>): Promise<T> {
    const { endpoints } = this.config;
    const start = Math.min(endpoints.length - 1, Math.floor(this.random() * endpoints.length));
    const failures: EndpointFailure[] = [];
    for (let round = 0; round < this.maxAttempts; round++) {
      if (round > 0 && this.backoffMs > 0) await new Promise((resolve) => setTimeout(resolve, this.backoffMs * 2 ** (round - 1)));
      for (let k = 0; k < endpoints.length; k++) {
        const endpoint = endpoints[(start + k) % endpoints.length]!;
        try {
          return await attempt(this.client(endpoint), endpoint);
        } catch (err) {
          if (err instanceof InconsistentRoutingError || !isEndpointFailure(err)) throw err;
          failures.push({ endpoint, error: describeFailure(err) });
        }
      }
    }
    throw new NoArcEndpointError(operation, failures);
  }
}

function onCount(states: Record<string, ControlState>): number {
  return Object.values(states).filter((s) => s === 'On').length;
}

function activeOf(states: Record<string, ControlState>): string {
  const on = Object.keys(states).filter((name) => states[name] === 'On');
  if (on.length !== 1) throw new InconsistentRoutingError(states);
  return on[0]!;
}
