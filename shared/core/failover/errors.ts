import { LandfallError } from '../errors';

/** One endpoint's failure while the ARC client rotated through the cluster endpoints. */
export interface EndpointFailure {
  endpoint: string;
  /** e.g. `ThrottlingException: Rate exceeded` or `ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:4000` */
  error: string;
}

/** Every ARC cluster endpoint failed (refused, timed out, throttled, unavailable); `failures` names each. */
export class NoArcEndpointError extends LandfallError {
  override readonly name = 'NoArcEndpointError';
  readonly code = 'ARC_NO_ENDPOINT';
  constructor(
    readonly operation: string,
    readonly failures: EndpointFailure[],
  ) {
    super(`ARC ${operation}: no cluster endpoint answered (${failures.map((f) => `${f.endpoint}: ${f.error}`).join('; ')})`);
  }
}

/**
 * The routing controls do not have exactly one On, so there is no active cluster. The orchestration
 * does not repair this by itself: the safety rule should have made it impossible.
 */
export class InconsistentRoutingError extends LandfallError {
  override readonly name = 'InconsistentRoutingError';
  readonly code = 'ARC_ROUTING_INCONSISTENT';
  constructor(readonly states: Record<string, 'On' | 'Off'>) {
    const on = Object.keys(states).filter((name) => states[name] === 'On');
    super(`ARC routing controls must have exactly one On, found ${on.length === 0 ? 'none' : on.join(' and ')} (${JSON.stringify(states)})`);
  }
}

/** The ARC configuration cannot serve the requested operation (e.g. failover needs exactly two clusters). */
export class ArcConfigError extends LandfallError {
  override readonly name = 'ArcConfigError';
  readonly code = 'ARC_CONFIG_INVALID';
}
