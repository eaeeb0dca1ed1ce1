/**
 * `npm run chaos`: the chaos run over many seeds, one process each, and a table of the figures.
 *
 *   npm run chaos                       seeds 1–10 at p = 0.25
 *   npm run chaos -- --seeds 1-3 --p 0.1
 */
import { parseArgs } from 'node:util';
import { runSeeds, seedList } from './seeds';

const { values } = parseArgs({ options: { seeds: { type: 'string' }, p: { type: 'string' } } });
const seeds = seedList(values.seeds ?? '1-10');
const p = Number(values.p ?? 0.25);
const results = await runSeeds(seeds, p, (line) => process.stderr.write(`${line}\n`));
const header =
  '| seed | files | crashes before / after | S3 events duplicated | bursts reversed | stream records lost | executions aborted | executions | parked events | reconciler passes | repairs | left | s |';
const rows = results.map((r) => {
  const repairs =
    Object.entries(r.repairs)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ') || 'none';
  return `| ${r.seed} | ${r.files} | ${r.injected.crashesBefore} / ${r.injected.crashesAfter} | ${r.injected.s3EventsDuplicated} | ${r.injected.s3BurstsReversed} | ${r.injected.streamRecordsDropped} | ${r.injected.executionsAborted} | ${r.executions} | ${r.parked} | ${r.passes} | ${repairs} | ${r.problems.length === 0 ? 'nothing' : r.problems.join('; ')} | ${r.seconds} |`;
});
process.stdout.write(`Chaos at p = ${p}, seeds ${seeds.join(', ')}\n\n${header}\n|${' --- |'.repeat(13)}\n${rows.join('\n')}\n`);
process.exit(results.every((r) => r.problems.length === 0) ? 0 : 1);
