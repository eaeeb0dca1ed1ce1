import { creationFailure } from './faults';
import { accepting, hasWork, settle, type ClusterRecord, type ClusterState, type ReasonCode } from './model';

/**
 * Cluster records and their lifecycle: STARTING → BOOTSTRAPPING → WAITING ⇄ RUNNING →
 * TERMINATING → TERMINATED(_WITH_ERRORS), with the delays of the options, the creation faults
 * armed at RunJobFlow, and the idle timers of AutoTerminationPolicy and KeepJobFlowAliveWhenNoSteps.
 * Every write of a cluster's state is here.
 */

export interface LifecycleOptions {
  provisioningDelayMs: number;
  bootstrapDelayMs: number;
  terminationDelayMs: number;
  idleTimeoutScaleMs: number;
  /** starts the cluster's pending steps (the step engine) */
  pump(cluster: ClusterRecord): void;
  /** a cluster or step changed state: waiters (idle, allEnded) check again */
  changed(): void;
  isStopped(): boolean;
}

/** Codes that end a cluster TERMINATED; every other code ends it TERMINATED_WITH_ERRORS. */
const CLEAN_ENDS = new Set<ReasonCode>(['USER_REQUEST', 'ALL_STEPS_COMPLETED']);
/** setTimeout's longest delay: a longer one would fire at once */
const MAX_TIMER_MS = 2 ** 31 - 1;

export type Lifecycle = ReturnType<typeof clusterLifecycle>;

export function clusterLifecycle(options: LifecycleOptions) {
  const clusters = new Map<string, ClusterRecord>();

  const set = (c: ClusterRecord, state: ClusterState, reason: ClusterRecord['reason']) => {
    c.state = state;
    c.reason = reason;
    options.changed();
  };
  /** One pending transition per cluster: a new one (or a termination) replaces it. */
  const schedule = (c: ClusterRecord, delayMs: number, transition: () => void) => {
    clearTimeout(c.transition);
    c.transition = setTimeout(() => {
      c.transition = undefined;
      if (!options.isStopped()) transition();
    }, delayMs);
  };
  const clearIdle = (c: ClusterRecord) => {
    clearTimeout(c.idleTimer);
    c.idleTimer = undefined;
  };

  /**
   * Ends the cluster: its running steps are stopped (CANCELLED, or INTERRUPTED when it lost its
   * machines) and pending ones CANCELLED at once; TERMINATING lasts terminationDelayMs unless
   * `atOnce`. A cluster already going away is left as it is (TerminateJobFlows is idempotent).
   */
  const terminate = (c: ClusterRecord, code: ReasonCode, message: string, how: { runningStep?: 'CANCELLED' | 'INTERRUPTED'; atOnce?: boolean } = {}) => {
    if (!accepting(c)) return;
    clearTimeout(c.transition);
    c.transition = undefined;
    clearIdle(c);
    const runningStep = how.runningStep ?? 'CANCELLED';
    for (const step of c.steps) {
      if (step.state === 'RUNNING' || step.state === 'CANCEL_PENDING') {
        settle(step, runningStep, { reason: `Step ${runningStep === 'INTERRUPTED' ? 'interrupted' : 'cancelled'}: the cluster terminated (${message})` });
        step.abort?.abort();
      } else if (step.state === 'PENDING') {
        settle(step, 'CANCELLED', { reason: `Step cancelled: the cluster terminated (${message})` });
      }
    }
    const reason = { Code: code, Message: message };
    const end = () => {
      c.endedAt = new Date();
      set(c, CLEAN_ENDS.has(code) ? 'TERMINATED' : 'TERMINATED_WITH_ERRORS', reason);
    };
    if (how.atOnce) return end();
    set(c, 'TERMINATING', reason);
    schedule(c, options.terminationDelayMs, end);
  };

  const failCreation = (c: ClusterRecord) => {
    const { code, message } = creationFailure(c.creationFault!, {
      availabilityZone: c.availabilityZone!,
      ...(c.config.masterInstanceType ? { instanceType: c.config.masterInstanceType } : {}),
    });
    terminate(c, code, message);
  };

  /** RunJobFlow's cluster: STARTING now, then provisioned and bootstrapped unless a creation fault says otherwise. */
  const launch = (c: ClusterRecord) => {
    clusters.set(c.id, c);
    set(c, 'STARTING', { Message: 'Provisioning Amazon EC2 capacity' });
    schedule(c, options.provisioningDelayMs, () => {
      if (c.creationFault === 'capacity' || c.creationFault === 'az-impaired') return failCreation(c);
      set(c, 'BOOTSTRAPPING', { Message: 'Running bootstrap actions' });
      schedule(c, options.bootstrapDelayMs, () => {
        if (c.creationFault === 'bootstrap') return failCreation(c);
        c.readyAt = new Date();
        set(c, 'WAITING', { Message: 'Cluster ready to run steps.' });
        options.pump(c); // steps added while it started; none → the idle rules apply
      });
    });
  };

  return {
    clusters,
    /** a standing cluster: WAITING from the start */
    addStanding(c: ClusterRecord) {
      if (clusters.has(c.id)) throw new Error(`local EMR: cluster id ${c.id} is configured twice`);
      clusters.set(c.id, c);
    },
    launch,
    terminate,
    /** A step starts: the cluster is RUNNING and not idle. */
    stepStarted(c: ClusterRecord) {
      clearIdle(c);
      set(c, 'RUNNING', { Message: 'Running step' });
    },
    /** Steps were added: the idle time starts again when they are done. */
    stepsAdded(c: ClusterRecord) {
      clearIdle(c);
    },
    /**
     * No step runs or waits: WAITING. A cluster RunJobFlow made then ends if it was not to be kept
     * alive without steps, or starts its idle timer (any step activity before it fires resets it).
     */
    stepsDone(c: ClusterRecord) {
      if (c.state === 'RUNNING') set(c, 'WAITING', { Message: 'Cluster ready after last step completed.' });
      if (!c.viaRunJobFlow || c.state !== 'WAITING') return;
      if (!c.config.keepAlive) return terminate(c, 'ALL_STEPS_COMPLETED', 'Steps completed');
      const seconds = c.config.idleTimeoutSeconds;
      if (seconds === undefined) return;
      clearIdle(c);
      c.idleTimer = setTimeout(
        () => {
          c.idleTimer = undefined;
          if (c.state === 'WAITING' && !hasWork(c) && !options.isStopped()) {
            terminate(c, 'ALL_STEPS_COMPLETED', `Terminated by the auto-termination policy: the cluster was idle for ${seconds} seconds`);
          }
        },
        Math.min(seconds * options.idleTimeoutScaleMs, MAX_TIMER_MS),
      );
    },
    /** makeHealthy: WAITING again, as if a new cluster had replaced it under the same id. */
    revive(c: ClusterRecord) {
      if (accepting(c)) return;
      clearTimeout(c.transition);
      c.transition = undefined;
      c.readyAt = new Date();
      delete c.endedAt;
      set(c, 'WAITING', { Message: 'Cluster ready to run steps.' });
      options.pump(c);
    },
    /** stop(): no transition or idle timer fires any more */
    stopTimers() {
      for (const c of clusters.values()) {
        clearTimeout(c.transition);
        c.transition = undefined;
        clearIdle(c);
      }
    },
  };
}
