/**
 * 6. Spark skew: sessionize one day of events in which one customer holds 30 % of them, with AQE
 * skew handling on and off (and the bucketed sessionize if spark/bench/skew.py reports it), on
 * local Spark. The measurement itself is spark/bench/skew.py; this wraps it.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sparkSubmit } from '../../local/installed';
import { formatSummary, summarize } from '../lib/stats';
import { log, suiteMain } from '../lib/suite';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');

await suiteMain(async ({ quick }) => {
  const spark = sparkSubmit();
  const python = spark.env.PYSPARK_PYTHON!;
  const dir = await mkdtemp(join(tmpdir(), 'landfall-skew-'));
  const events = quick ? 200_000 : 2_000_000;
  const runs = quick ? 1 : 3;
  try {
    const out = join(dir, 'skew.json');
    log(`sessionize, ${events} events, hot customer 30 %, ${runs} runs per variant`);
    await run(python, [join(ROOT, 'spark', 'bench', 'skew.py'), '--events', String(events), '--hot-share', '0.3', '--runs', String(runs), '--out', out], {
      cwd: ROOT,
      env: { ...process.env, ...spark.env, TZ: 'UTC', SPARK_LOCAL_IP: '127.0.0.1' },
      maxBuffer: 64 * 1024 * 1024,
    });
    const result = JSON.parse(await readFile(out, 'utf8')) as Record<string, unknown>;
    const variants = Object.entries(result).filter(([, v]) => Array.isArray((v as { seconds?: unknown })?.seconds)) as Array<[string, { seconds: number[]; [k: string]: unknown }]>;
    const base = variants.find(([name]) => name === 'off');
    const rows = variants.map(([name, v]) => {
      const s = summarize(v.seconds);
      const extra = Object.entries(v).filter(([k]) => k !== 'seconds').map(([k, x]) => `${k}: ${JSON.stringify(x)}`).join('; ');
      return [name, formatSummary(s, 1), base ? `${(summarize(base[1].seconds).median / s.median).toFixed(2)}×` : '', extra.slice(0, 160)];
    });
    return {
      id: 'skew',
      title: `6. Spark skew: sessionize with one customer holding 30 % of ${events.toLocaleString('en-US')} events (local Spark, 2 cores)`,
      tables: [{ header: ['variant', 'seconds', 'speed-up vs AQE off', 'details'], rows }],
      targets: [],
      notes: ['Measured by spark/bench/skew.py (one Spark session, variants alternating); see spark/README.md.'],
      data: result,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
