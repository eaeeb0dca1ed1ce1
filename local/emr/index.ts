import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { awsJsonServer } from '../aws-json';
import { listenOnLoopback } from '../http';
import { clusterArn, emrOperations } from './api';
import { clusterLifecycle } from './clusters';
import { ApiFaults, CreationFaults, instanceFailure } from './faults';
import { accepting, clusterView, hasEnded, hasWork, settle, stepView, type ClusterRecord } from './model';
import { DEFAULT_RELEASE_LABEL, SPARK_VERSION } from './requests';
import { spawnRunner } from './spark-runner';
import { stepEngine } from './steps';
import type { LocalEmr, LocalEmrOptions, StepRunContext } from './types';
import { Waiters } from './waiters';

export type { CreationFaultKind, LocalClusterRecord, LocalStepRecord } from './model';
export type { LocalEmr, LocalEmrOptions, StepRunContext } from './types';
export { localSparkSubmitArgs, StepCommandError } from './spark-runner';

/**
 * A local Amazon EMR behind the service's JSON protocol (awsJson1_1, `X-Amz-Target:
 * ElasticMapReduce.<Op>`, timestamps as epoch seconds), so the unmodified EMRClient works against
 * it. Standing clusters (options.clusters) are WAITING from the start; RunJobFlow creates
 * transient ones that go through EMR's lifecycle and end by TerminateJobFlows, their idle
 * timeout or running out of steps. Steps run in submission order (StepConcurrencyLevel at a
 * time, EMR's default 1); s3:// arguments are mirrored to local files around each step.
 */
export async function startLocalEmr(options: LocalEmrOptions): Promise<LocalEmr> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const ownsWorkDir = options.workDir === undefined;
  const root = options.workDir ?? (await mkdtemp(join(tmpdir(), 'landfall-emr-')));
  const hooks: Array<(ctx: StepRunContext) => void | Promise<void>> = [];
  const apiFaults = new ApiFaults();
  const creationFaults = new CreationFaults();
  const waiters = new Waiters();
  let stopped = false;
  let stopping: Promise<void> | undefined;
  const isStopped = () => stopped;
  const changed = () => waiters.changed();

  const lifecycle = clusterLifecycle({
    provisioningDelayMs: options.provisioningDelayMs ?? 0,
    bootstrapDelayMs: options.bootstrapDelayMs ?? 0,
    terminationDelayMs: options.terminationDelayMs ?? 0,
    idleTimeoutScaleMs: options.idleTimeoutScaleMs ?? 1000,
    pump: (c) => steps.pump(c),
    changed,
    isStopped,
  });
  const steps = stepEngine({
    s3: options.s3,
    root,
    runStep: options.runStep ?? spawnRunner(options),
    customRunner: options.runStep !== undefined,
    hooks,
    ...(options.logUri ? { logUri: options.logUri } : {}),
    lifecycle,
    changed,
    isStopped,
  });
  const { clusters } = lifecycle;

  const now = new Date();
  for (const c of options.clusters ?? []) {
    lifecycle.addStanding({
      id: c.id,
      name: c.name,
      arn: clusterArn(region, accountId, c.id),
      ...(c.availabilityZone ? { availabilityZone: c.availabilityZone } : {}),
      tags: Object.entries(c.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
      state: 'WAITING',
      reason: { Message: 'Cluster ready to run steps.' },
      createdAt: now,
      readyAt: now,
      viaRunJobFlow: false,
      config: {
        releaseLabel: DEFAULT_RELEASE_LABEL,
        applications: [{ Name: 'Spark', Version: SPARK_VERSION }],
        visibleToAllUsers: true,
        stepConcurrencyLevel: 1,
        keepAlive: true,
        terminationProtected: false,
        instanceCollectionType: 'INSTANCE_FLEET',
        requestedSubnetIds: [],
      },
      steps: [],
      failNext: [],
      active: new Set(),
    });
  }

  const server = awsJsonServer({
    targetPrefix: 'ElasticMapReduce.',
    version: '1.1',
    operations: emrOperations({
      region,
      accountId,
      pageSize: options.pageSize ?? 50,
      ...(options.subnets ? { subnets: options.subnets } : {}),
      lifecycle,
      creationFaults,
      pump: (c) => steps.pump(c),
      changed,
    }),
    internalErrorType: 'InternalServerError',
    beforeOperation: () => apiFaults.check(),
  });
  const listening = await listenOnLoopback(server);

  const clusterById = (id: string): ClusterRecord => {
    const cluster = clusters.get(id);
    if (!cluster) throw new Error(`local EMR: no cluster ${id}`);
    return cluster;
  };
  const busy = () => [...clusters.values()].some(hasWork);
  const createdUp = () => [...clusters.values()].filter((c) => c.viaRunJobFlow && !hasEnded(c));

  return {
    endpoint: listening.endpoint,
    steps: (clusterId) =>
      [...clusters.values()]
        .filter((c) => clusterId === undefined || c.id === clusterId)
        .flatMap((c) => c.steps)
        .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
        .map(stepView),
    clusters: () => [...clusters.values()].map(clusterView),
    failNextStep(clusterId, message = 'Step failed (local fault injection)') {
      clusterById(clusterId).failNext.push(message);
    },
    makeUnhealthy(clusterId, how) {
      const cluster = clusterById(clusterId);
      if (!accepting(cluster)) return;
      const { code, message } = instanceFailure(how, cluster.availabilityZone ?? `${region}a`);
      // the machines are gone: no TERMINATING, and a running step is INTERRUPTED, not cancelled
      lifecycle.terminate(cluster, code, message, { runningStep: 'INTERRUPTED', atOnce: true });
    },
    makeHealthy(clusterId) {
      lifecycle.revive(clusterById(clusterId));
    },
    failCreation(where, kind, times = 1) {
      creationFaults.arm(where, kind, times);
    },
    clearCreationFaults() {
      creationFaults.clear();
    },
    onStepStart(hook) {
      hooks.push(hook);
    },
    failApiCalls(count, errorType = 'InternalServerError') {
      apiFaults.push(count, errorType);
    },
    idle(timeoutMs = 300_000) {
      return waiters.until(
        () => !busy(),
        timeoutMs,
        () => new Error(`local EMR: steps still pending or running after ${timeoutMs} ms`),
      );
    },
    allEnded(timeoutMs = 300_000) {
      return waiters.until(
        () => createdUp().length === 0,
        timeoutMs,
        () =>
          new Error(
            `local EMR: clusters still up after ${timeoutMs} ms: ${createdUp()
              .map((c) => `${c.id} (${c.name}, ${c.state})`)
              .join(', ')}`,
          ),
      );
    },
    stop() {
      // once: a second call waits for the first
      stopping ??= (async () => {
        stopped = true;
        lifecycle.stopTimers();
        for (const cluster of clusters.values()) {
          for (const step of cluster.steps) {
            if (step.state === 'PENDING') settle(step, 'CANCELLED', { reason: 'local EMR stopped' });
            if (step.state === 'RUNNING' || step.state === 'CANCEL_PENDING') {
              settle(step, 'CANCELLED', { reason: 'local EMR stopped' });
              step.abort?.abort();
            }
          }
        }
        const active = [...clusters.values()].flatMap((c) => [...c.active]);
        await Promise.race([Promise.allSettled(active), new Promise((r) => setTimeout(r, 10_000).unref())]);
        waiters.close(new Error('local EMR stopped'));
        await listening.close();
        if (ownsWorkDir) await rm(root, { recursive: true, force: true }).catch(() => undefined);
      })();
      return stopping;
    },
  };
}
