import { ConfigError } from '../errors';

/**
 * The order to parse (and reason about) jobs in: every job after the jobs it reads. A cycle is a
 * configuration error naming the jobs on it, in order.
 */
export function dependencyOrder(upstreamOf: Map<string, string[]>, fieldOf: (job: string) => string): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (job: string, path: string[]) => {
    if (state.get(job) === 'done') return;
    if (state.get(job) === 'visiting') {
      const cycle = [...path.slice(path.indexOf(job)), job];
      throw new ConfigError(fieldOf(cycle[0]!), `jobs depend on each other in a cycle: ${cycle.join(' → ')}`);
    }
    state.set(job, 'visiting');
    // an unknown upstream is reported where the job names it, when the job is parsed
    for (const upstream of upstreamOf.get(job) ?? []) if (upstreamOf.has(upstream)) visit(upstream, [...path, job]);
    state.set(job, 'done');
    order.push(job);
  };
  for (const job of upstreamOf.keys()) visit(job, []);
  return order;
}
