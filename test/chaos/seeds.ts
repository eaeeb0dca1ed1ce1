import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { ChaosFigures, CrashScope } from './seed';

/** "1-10" or "1,4,7" → the seeds. */
export function seedList(spec: string): number[] {
  return spec.split(',').flatMap((part) => {
    const [from, to] = part.split('-').map(Number);
    if (!Number.isInteger(from) || (to !== undefined && !Number.isInteger(to))) throw new Error(`not a seed list: ${spec}`);
    return to === undefined ? [from!] : Array.from({ length: to - from! + 1 }, (_, i) => from! + i);
  });
}

/** Runs each seed in its own process (test/chaos/seed.ts), one after the other. */
export async function runSeeds(
  seeds: number[],
  p: number,
  progress: (line: string) => void = () => undefined,
  scope: CrashScope = {},
): Promise<ChaosFigures[]> {
  const results: ChaosFigures[] = [];
  for (const seed of seeds) {
    const out = await new Promise<string>((resolve, reject) => {
      const args = ['--seed', String(seed), '--p', String(p)];
      if (scope.functions) args.push('--functions', scope.functions.join(','));
      if (scope.operations) args.push('--operations', scope.operations.join(','));
      const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'seed.ts'), ...args], {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT' },
      });
      let text = '';
      child.stdout.on('data', (c: Buffer) => (text += c.toString()));
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`chaos seed ${seed} exited with ${code}`))));
    });
    const figures = JSON.parse(out.trim().split('\n').pop()!) as ChaosFigures;
    progress(
      `seed ${seed}: ${figures.injected.crashesBefore + figures.injected.crashesAfter} crashes, ${Object.values(figures.repairs).reduce((a, b) => a + b, 0)} repairs in ${figures.passes} passes, ${figures.problems.length} problem(s), ${figures.seconds} s`,
    );
    results.push(figures);
  }
  return results;
}
