import { describe, expect, it } from 'vitest';
import { dependencyOrder } from '../../shared/core/config/job-graph';
import { ConfigError } from '../../shared/core/errors';
import { thrown } from '../support/thrown';

const graph = (edges: Record<string, string[]>) => new Map(Object.entries(edges));
const fieldOf = (job: string) => `jobs[${job}]`;

function cycleError(edges: Record<string, string[]>): ConfigError {
  return thrown(ConfigError, () => dependencyOrder(graph(edges), fieldOf));
}

describe('the order jobs are parsed in', () => {
  it('puts every job after the jobs it reads, and keeps the written order otherwise', () => {
    expect(dependencyOrder(graph({ weekly: ['daily'], daily: ['raw'], raw: [], other: [] }), fieldOf)).toEqual(['raw', 'daily', 'weekly', 'other']);
    expect(dependencyOrder(graph({ a: [], b: [], c: [] }), fieldOf)).toEqual(['a', 'b', 'c']);
  });

  it('lists a job read by several others once, before all of them', () => {
    const order = dependencyOrder(graph({ report: ['left', 'right'], left: ['base'], right: ['base'], base: [] }), fieldOf);
    expect(order).toEqual(['base', 'left', 'right', 'report']);
  });

  it('leaves an unknown upstream to the job parser (it is reported where the job names it)', () => {
    expect(dependencyOrder(graph({ daily: ['missing'] }), fieldOf)).toEqual(['daily']);
  });

  it('names the jobs of a cycle in order, at the field of the first', () => {
    const err = cycleError({ a: ['b'], b: ['c'], c: ['a'] });
    expect(err.field).toBe('jobs[a]');
    expect(err.problem).toBe('jobs depend on each other in a cycle: a → b → c → a');
  });

  it('names only the jobs on the cycle, not the path that led to it', () => {
    const err = cycleError({ top: ['mid'], mid: ['x'], x: ['y'], y: ['x'] });
    expect(err.field).toBe('jobs[x]');
    expect(err.problem).toBe('jobs depend on each other in a cycle: x → y → x');
  });

  it('refuses a job that reads itself', () => {
    expect(cycleError({ a: [], loop: ['loop'] }).problem).toBe('jobs depend on each other in a cycle: loop → loop');
  });
});
