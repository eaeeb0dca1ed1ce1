/**
 * `npm run chaos`: the chaos run over many seeds, one process each, and a table of the figures.
 *
 *   npm run chaos                       seeds 1–10 at p = 0.25
 *   npm run chaos -- --seeds 1-3 --p 0.1
 *   npm run chaos -- --p 1 --functions jobstep --operations StartExecution
 *                                       crashes only in these functions, around these operations
 *                                       (here: every next generation a run's end starts)
 */
import { parseArgs } from 'node:util';
import type { CrashScope } from './seed';
import { runSeeds, seedList } from './seeds';

const { values } = parseArgs({ options: { seeds: { type: 'string' }, p: { type: 'string' }, functions: { type: 'string' }, operations: { type: 'string' } } });
const seeds = seedList(values.seeds ?? '1-10');
const p = Number(values.p ?? 0.25);
const scope: CrashScope = {
  ...(values.functions ? { functions: values.functions.split(',') } : {}),
  ...(values.operations ? { operations: values.operations.split(',') } : {}),
};
const results = await runSeeds(seeds, p, (line) => process.stderr.write(`${line}\n`), scope);
const scoped = [scope.functions && `in ${scope.functions.join(', ')}`, scope.operations && `around ${scope.operations.join(', ')}`].filter(Boolean);
const header =
  '| seed | files | crashes before / after | S3 events duplicated | bursts reversed | stream records lost | executions aborted | executions | parked events | next generations left | reconciler passes | repairs | left | s |';
const rows = results.map((r) => {
  const repairs =
    Object.entries(r.repairs)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ') || 'none';
  return `| ${r.seed} | ${r.files} | ${r.injected.crashesBefore} / ${r.injected.crashesAfter} | ${r.injected.s3EventsDuplicated} | ${r.injected.s3BurstsReversed} | ${r.injected.streamRecordsDropped} | ${r.injected.executionsAborted} | ${r.executions} | ${r.parked} | ${r.nextLeft} | ${r.passes} | ${repairs} | ${r.problems.length === 0 ? 'nothing' : r.problems.join('; ')} | ${r.seconds} |`;
});
const title = `Chaos at p = ${p}${scoped.length ? ` (crashes only ${scoped.join(', ')})` : ''}, seeds ${seeds.join(', ')}`;
process.stdout.write(`${title}\n\n${header}\n|${' --- |'.repeat(14)}\n${rows.join('\n')}\n`);
process.exit(results.every((r) => r.problems.length === 0) ? 0 : 1);
