import { isAbsolute, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_PIPELINE_FILE } from '../local/pipeline-file';
import type { SampleModule, SampleOptions } from './sample-contract';
import { wrap } from './terminal';
import { LandfallError } from '../shared/core/errors';

/*
 * Every command of the landfall CLI as data: what it does and each option it takes, with its
 * default. `landfall --help`, `landfall <command> --help` and the option parsing all read this
 * table, so a command's help cannot drift from what it accepts. The commands themselves are in cli.ts.
 */

export type Values = Record<string, string | boolean | undefined>;

/** A bad command line: exit 2. */
/** A command line the CLI cannot run: an unknown option, a missing value, an unknown job. */
export class UsageError extends LandfallError {
  override readonly name = 'UsageError';
  readonly code = 'CLI_USAGE';
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** the value's name in the help: FILE, DIR, N */
  value?: string;
  /** the command refuses to run without it (unbracketed in the usage line) */
  required?: boolean;
  help: string;
  /** what holds when the option is not given */
  default?: string | ((context: HelpContext) => string);
}

export interface CommandSpec {
  /** its section of `landfall --help` */
  group: 'pipeline' | 'operations';
  /** the one line of `landfall --help` */
  summary: string;
  /** what it does, for `landfall <command> --help` */
  description: string;
  /** the words after the options: as the usage line names them, and how many it takes */
  args?: { usage: string; help: string; max: number };
  options: Record<string, OptionSpec>;
  /** its help shows the pipeline's sample module; the text is for a pipeline without one */
  withoutSample?: string;
}

/** What a command's help shows of the pipeline at hand: its file (--config, or the default) and its sample module. */
export interface HelpContext {
  pipelineFile: string;
  sample?: { file: string; module?: SampleModule; error?: string };
}

const ROOT = resolve(import.meta.dirname, '..');
const WIDTH = 100;

/** A path as help shows it: relative to the project when inside it. */
export function shown(path: string): string {
  const inside = relative(ROOT, path);
  return inside && !inside.startsWith('..') && !isAbsolute(inside) ? inside : path;
}

const PIPELINE_DEFAULT = `$LANDFALL_CONFIG_FILE if set, else the samples' ${shown(DEFAULT_PIPELINE_FILE)}`;
const CONFIG: OptionSpec = {
  type: 'string',
  value: 'FILE',
  help: 'the pipeline: a pipeline.yaml or .json (its file references relative to its folder)',
  default: PIPELINE_DEFAULT,
};
const STAGE_OPTIONS: Record<string, OptionSpec> = {
  stage: {
    type: 'string',
    value: 'S',
    help: 'operate the deployed stage S instead: your default AWS credentials, the names serverless.yml gives that stage',
    default: 'the running local stack, `landfall up`',
  },
  region: { type: 'string', value: 'R', help: 'the AWS region of --stage', default: "your AWS configuration's: AWS_REGION, else the profile's" },
  config: { ...CONFIG, default: `the pipeline \`landfall up\` was started with; with --stage, ${PIPELINE_DEFAULT}` },
};

function knob(key: keyof SampleOptions, help: string): OptionSpec {
  return {
    type: 'string',
    value: 'N',
    help,
    default: (context) => {
      const value = context.sample?.module?.defaults?.[key];
      if (value !== undefined) return `${value}, from ${shown(context.sample!.file)}`;
      return context.sample ? "the sample module's own" : 'unused: the pipeline has no sample module';
    },
  };
}

const SAMPLE_KNOBS: Record<string, OptionSpec> = {
  seed: knob('seed', "the seed of the sample's random choices: the same seed writes the same bytes"),
  days: knob('days', 'how many days of data'),
  rows: knob('rows', 'rows per file, as the sample counts them'),
};

const BATCH_OPTIONS: Record<string, OptionSpec> = {
  job: { type: 'string', value: 'J', required: true, help: "the job's name in the configuration" },
  batch: { type: 'string', value: 'field=value,…', required: true, help: "the batch: each field of the job's batch key with its value, separated by commas" },
};

export const COMMANDS = {
  demo: {
    group: 'pipeline',
    summary: "the pipeline's sample end to end: generate, land, settle, print and check each file and batch",
    description:
      "Runs the pipeline's sample on the local stack: writes it into a temporary directory with the sample module beside the pipeline file " +
      '(ops/README.md, "Samples"), starts the local stack, lands every file, waits until the pipeline settles, prints every file\'s state, ' +
      "every batch's job runs and the EMR clusters the runs used, then checks each file against the state the sample expects. A pipeline " +
      "without a sample module: the files of its folder's sample/ directory are landed instead (their paths under it are their keys under " +
      'landing/), and every batch must succeed. Exit 0 when everything is as expected, 1 otherwise, 2 on a bad command line or configuration.',
    options: { config: CONFIG, ...SAMPLE_KNOBS },
    withoutSample: "demo lands the files of its folder's sample/ directory instead (and says so when there is none)",
  },
  run: {
    group: 'pipeline',
    summary: 'land every file under DIR, wait, write file states, job runs, EMR clusters, tables to OUT',
    description:
      'Starts the local stack, lands every file under --input DIR (its path under DIR is its key under landing/), waits until the pipeline ' +
      'settles, then writes OUT/file-states.jsonl, OUT/job-runs.jsonl, OUT/emr-clusters.jsonl (every EMR cluster a run used: id, cell, ' +
      'created, ended, why; it returns once the clusters it created have ended by themselves), the processed Parquet under OUT/processed/, the rejects reports under OUT/rejected/, ' +
      "each job's output as OUT/curated/<table>.csv (its Parquet under OUT/curated/<table>/), and each table the jobs load into the " +
      'warehouse as OUT/warehouse/<table>.csv. Exit 0 when every batch published; 3 when a batch FAILED, 4 when one still waits for its inputs ' +
      '(each such batch is named on stderr with its error or what it waits for; OUT is written either way); 1 on an internal error, 2 on a bad command line or configuration.',
    options: {
      input: { type: 'string', value: 'DIR', required: true, help: 'the files to land: the path of each under DIR is its key under landing/' },
      out: { type: 'string', value: 'DIR', required: true, help: 'where the results go (created if missing)' },
      config: CONFIG,
    },
  },
  generate: {
    group: 'pipeline',
    summary: "write the pipeline's sample (and DIR.expected-states.json beside it) without running anything",
    description:
      'Writes the pipeline\'s sample under --out DIR with the sample module beside the pipeline file (ops/README.md, "Samples"), and the ' +
      'state each file must reach in DIR.expected-states.json, beside the directory rather than in it (`landfall run --input DIR` lands ' +
      'everything inside DIR). Starts nothing. A pipeline without a sample module has nothing to generate: exit 2.',
    options: {
      out: { type: 'string', value: 'DIR', required: true, help: 'the directory to write the sample into' },
      config: CONFIG,
      ...SAMPLE_KNOBS,
    },
    withoutSample: 'generate has nothing to write for it (exit 2)',
  },
  config: {
    group: 'pipeline',
    summary: 'validate the configuration and print it as the engine reads it: JSON, file references absolute',
    description:
      'Validates the configuration, binds each SQL stage to its relations and parameters (in-process DuckDB over empty inputs: an ' +
      'unknown column, a type error, a parameter missing or unused is an error naming the job, stage, SQL file and line; exit 2) and ' +
      'prints it as the engine reads it: JSON, every file reference an absolute path, so that ' +
      '`landfall run --config` accepts it back from any directory. The verdict goes to stderr. Starts nothing.',
    options: { config: CONFIG },
  },
  up: {
    group: 'pipeline',
    summary: 'start the local stack and keep it running (Ctrl-C stops it); then, from another shell:',
    description:
      'Starts the local stack and keeps it running, with the reconciler every 10 minutes as deployed, until Ctrl-C. From another shell, ' +
      '`landfall land DIR` lands files on it and the operations commands (status, explain, retry, reconcile, query, replay) talk to it.',
    options: { config: CONFIG },
  },
  land: {
    group: 'pipeline',
    summary: 'land files on the running stack',
    description:
      'Lands every file under DIR on the running `landfall up` stack (its path under DIR is its key under landing/) and returns; `landfall status` shows their states.',
    args: { usage: 'DIR', help: 'the files to land', max: 1 },
    options: {},
  },
  status: {
    group: 'operations',
    summary: 'file states and job batches (what each waits for)',
    description: "Prints every file's state and every job batch with its runs; a waiting batch shows what it waits for now.",
    options: STAGE_OPTIONS,
  },
  explain: {
    group: 'operations',
    summary: 'why a batch has not run (or what it ran): what it waits for, its claim and its runs',
    description: 'Why a batch has not run, or what it ran: its status, its claim, its last run, what it waits for now and what each of its runs read.',
    options: { ...BATCH_OPTIONS, ...STAGE_OPTIONS },
  },
  backfill: {
    group: 'operations',
    summary: "re-run a job's stale, failed or never-run batches (days or one batch), each once; --dry-run: the plan",
    description:
      'Finds the batches of --job on the days --from to --to (the files of each input and day, from the file-state index) or the --batch named, ' +
      'and says why each would run: stale (its last success ran older code than the job has now), failed (its last run FAILED or CHECK_FAILED) ' +
      'or never (its inputs now never ran to success); an incomplete batch is skipped with what it waits for. --dry-run prints that plan (with ' +
      '--downstream, also the batches of the jobs reading it that the cascade re-runs) and starts nothing. Otherwise starts them, at most ' +
      '--max-concurrency at a time, each once (a second backfill with nothing changed starts nothing), waits for each and prints a summary. ' +
      'Exit 0 when every run succeeded, 3 when one failed, 4 when a batch was skipped or still waits; 2 on a bad command line (docs/backfill.md).',
    options: {
      job: { type: 'string', value: 'J', required: true, help: "the job's name in the configuration" },
      from: { type: 'string', value: 'YYYY-MM-DD', help: 'the first day of the range', default: 'none: name --batch instead' },
      to: { type: 'string', value: 'YYYY-MM-DD', help: 'the last day of the range, included', default: '--from' },
      batch: {
        type: 'string',
        value: 'field=value,…',
        help: "one batch: each field of the job's batch key with its value, separated by commas",
        default: 'none: give --from and --to instead',
      },
      reason: { type: 'string', value: 'R', help: 'which batches run: stale, failed, never or all (several separated by commas)', default: 'all' },
      downstream: {
        type: 'boolean',
        help: 'also list, and wait for, the batches of the jobs reading this job that the cascade re-runs',
        default: 'not listed (they re-run all the same)',
      },
      'dry-run': { type: 'boolean', help: 'print the plan only: which batches would run and why; start nothing', default: 'start them' },
      'max-concurrency': { type: 'string', value: 'N', help: 'at most N runs at a time', default: '4' },
      ...STAGE_OPTIONS,
    },
  },
  retry: {
    group: 'operations',
    summary: 'a new run of a batch whose last run FAILED, same inputs (a stuck batch is freed first)',
    description:
      'Starts a new run of a batch whose last run FAILED, with the same inputs; a stuck batch (a claim never started, an execution that ' +
      'ended unrecorded) is freed first. Prints the outcome as JSON; exit 2 when the batch has no failed run or is busy.',
    options: { ...BATCH_OPTIONS, ...STAGE_OPTIONS },
  },
  'index-batches': {
    group: 'operations',
    summary: "once, after upgrading: adds the console's index keys to batches written by an older landfall",
    description:
      'Once, after upgrading a stage deployed before the job-runs table had its grid and open-batch indexes (gsi2, gsi3): adds their keys ' +
      'to every batch item written without them (a Scan of the table; a batch whose status changes meanwhile is left to that write). ' +
      'Prints how many it indexed; a second run indexes 0. Batches are also indexed the next time they are written.',
    options: { ...STAGE_OPTIONS },
  },
  reconcile: {
    group: 'operations',
    summary: 'one pass of the reconciler now: re-drive stuck files, free stuck runs, alert late batches',
    description:
      'One pass of the reconciler now: re-drives files stuck in flight longer than --grace, frees stuck runs, re-resolves the batches ' +
      'of recently settled files and alerts late batches; prints what it repaired and which batches are late.',
    options: {
      grace: { type: 'string', value: 'SECONDS', help: 'how long a file may stay in flight before it is re-driven', default: '1200 (20 minutes)' },
      ...STAGE_OPTIONS,
    },
  },
  query: {
    group: 'operations',
    summary: "SQL over the lake with the catalog's table names: a `run --out` copy or the running stack's",
    description:
      "SQL over the lake with the catalog's table names (processed.<dataset>, curated.<table>, or the bare table name): DuckDB views over " +
      "the Parquet a `landfall run --out OUT` wrote (--lake OUT) or, without --lake, the running `landfall up` stack's lake bucket.",
    args: { usage: '"SQL"', help: 'the query (quote it; several words are joined with spaces)', max: Number.POSITIVE_INFINITY },
    options: {
      lake: { type: 'string', value: 'OUT', help: 'the lake a `landfall run --out OUT` wrote', default: "the running `landfall up` stack's lake bucket" },
      format: { type: 'string', value: 'csv', help: 'csv: the rows as CSV, header first', default: 'an aligned table and a row count' },
      config: { ...CONFIG, help: `${CONFIG.help}, for the catalog's table names` },
    },
  },
  replay: {
    group: 'operations',
    summary: 're-put every object under landing/P: identical bytes are no-ops unless --force',
    description:
      'Re-puts every object under landing/P of the raw bucket in place (or, with --bucket B, of that bucket on AWS): identical bytes are ' +
      'no-ops unless --force; changed bytes re-run their batches.',
    options: {
      prefix: { type: 'string', value: 'P', help: 'the key prefix under landing/ to replay', default: 'everything under landing/' },
      force: { type: 'boolean', help: 're-put identical bytes as a replay too: each file runs again', default: 'identical bytes are no-ops' },
      bucket: {
        type: 'string',
        value: 'B',
        help: 'a bucket on AWS (default credentials) instead of the raw bucket of the stack or stage',
        default: 'the raw bucket of the running stack, or of --stage',
      },
      ...STAGE_OPTIONS,
    },
  },
  console: {
    group: 'operations',
    summary: 'a web console on 127.0.0.1: overview, batch grid, batch and file detail, retry and replay',
    description:
      'Serves a web console on 127.0.0.1 over the running local stack or, with --stage, a deployed stage (your credentials; nothing is ' +
      'deployed for it): an overview of the last 24 hours, the batch grid (job × batch key × date, by status), each batch with its ' +
      'preconditions, runs, inputs, stages, checks and failure, each file with its versions, rejects and the runs that read it. Retry and ' +
      "replay are POSTs with a confirmation step, this start's session token and an origin check, recorded with who did them; --read-only " +
      'turns them off. Prints the URL and serves until Ctrl-C (docs/console.md).',
    options: {
      port: { type: 'string', value: 'N', help: 'the port on 127.0.0.1', default: '8421; 0 picks a free one' },
      'read-only': { type: 'boolean', help: 'serve the views only: no action is shown or accepted', default: 'retry and replay are offered' },
      ...STAGE_OPTIONS,
    },
  },
} satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMANDS;

export const isCommand = (name: string | undefined): name is CommandName => name !== undefined && Object.hasOwn(COMMANDS, name);

const HELP_OPTION = { type: 'boolean', short: 'h' } as const;

/** Every option any command takes, for the first look at a command line (before the command is known). */
const ANY_OPTION = Object.fromEntries([
  ...Object.values(COMMANDS as Record<string, CommandSpec>).flatMap((c) => Object.entries(c.options).map(([name, o]) => [name, { type: o.type }] as const)),
  ['help', HELP_OPTION],
]);

/**
 * The first look at a command line: the command (the first word), a second word (`landfall help
 * <command>`), whether help is asked for and --config (for the help's sample). Lenient: the
 * options are checked against the command's own by parseCommand.
 */
export function scanCommandLine(argv: string[]): { command?: string; topic?: string; help: boolean; config?: string } {
  const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, strict: false, options: ANY_OPTION });
  return {
    command: positionals[0],
    topic: positionals[1],
    help: values.help === true,
    ...(typeof values.config === 'string' ? { config: values.config } : {}),
  };
}

/** The options and arguments of a command line, checked against the command's own: anything else is a UsageError naming it. */
export function parseCommand(name: CommandName, argv: string[]): { values: Values; args: string[] } {
  const spec: CommandSpec = COMMANDS[name];
  const options = Object.fromEntries([...Object.entries(spec.options).map(([o, s]) => [o, { type: s.type }] as const), ['help', HELP_OPTION]]);
  const seeHelp = `see \`landfall ${name} --help\``;
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options });
  } catch (err) {
    const code = String((err as { code?: unknown }).code ?? '');
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const option = /'([^']+)'/.exec((err as Error).message)?.[1] ?? String(err);
      const names = Object.keys(spec.options).map((o) => `--${o}`);
      const takes = names.length > 0 ? `it takes ${names.join(', ')}` : 'it takes no options';
      throw new UsageError(`unknown option ${option} for \`landfall ${name}\` (${takes}); ${seeHelp}`);
    }
    const missing = /'(--[\w-]+) <value>' argument missing/.exec((err as Error).message)?.[1];
    if (missing) throw new UsageError(`${missing} needs a value (${missing} ${spec.options[missing.slice(2)]?.value ?? 'VALUE'}); ${seeHelp}`);
    if (code.startsWith('ERR_PARSE_ARGS')) throw new UsageError(`${name}: ${(err as Error).message}; ${seeHelp}`);
    throw err;
  }
  // the first positional is the command itself
  const args = parsed.positionals.slice(1);
  const max = spec.args?.max ?? 0;
  if (args.length > max) {
    const takes = max === 0 ? 'takes no arguments' : `takes ${max === 1 ? 'one' : max} ${spec.args!.usage}`;
    throw new UsageError(`\`landfall ${name}\` ${takes}, got ${args.map((a) => JSON.stringify(a)).join(' ')}; ${seeHelp}`);
  }
  return { values: parsed.values, args };
}

const indented = (lines: string[], by: number) => lines.map((l) => (l ? `${' '.repeat(by)}${l}` : l));

function usageLine(name: string, spec: CommandSpec, skip: string[] = []): string {
  const words = Object.entries(spec.options)
    .filter(([o]) => !skip.includes(o))
    .map(([o, s]) => {
      const word = s.type === 'boolean' ? `--${o}` : `--${o} ${s.value ?? 'VALUE'}`;
      return s.required ? word : `[${word}]`;
    });
  return ['landfall', name, ...words, ...(spec.args ? [spec.args.usage] : [])].join(' ');
}

/** A two-column list (name, text), the text wrapped beside the names. */
function columns(rows: Array<[string, string]>): string[] {
  const left = Math.max(...rows.map(([n]) => n.length)) + 4;
  return rows.flatMap(([n, text]) => {
    const [first = '', ...rest] = wrap(text, Math.max(40, WIDTH - left));
    return [`  ${n.padEnd(left - 2)}${first}`.trimEnd(), ...indented(rest, left)];
  });
}

/** `landfall --help`: every command, its usage without the options every command of its section takes, and what it does. */
export function globalHelp(): string {
  const sections: Record<CommandSpec['group'], string> = {
    pipeline:
      `Every command runs the pipeline of --config FILE (a pipeline.yaml or .json; default: ${shown(DEFAULT_PIPELINE_FILE)}, the samples). ` +
      'The local stack starts and stops by itself unless noted.',
    operations:
      'Operations, on the running local stack or, with --stage S [--region R], on a deployed stage (default AWS credentials; names from ' +
      'serverless.yml for that stage):',
  };
  const lines = [
    'landfall — event-driven batch analytics: files land in S3, are validated, converted to Parquet, tracked.',
    '',
    'usage: landfall <command> [options]',
    '       landfall <command> --help, or landfall help <command>: what it does, every option and its default',
  ];
  for (const [group, text] of Object.entries(sections)) {
    lines.push('', ...wrap(text, WIDTH));
    for (const [name, spec] of Object.entries(COMMANDS as Record<string, CommandSpec>).filter(([, s]) => s.group === group)) {
      lines.push(`  ${usageLine(name, spec, ['config', 'stage', 'region'])}`, ...indented(wrap(spec.summary, WIDTH - 6), 6));
    }
  }
  return `${lines.join('\n')}\n`;
}

/** `landfall <command> --help`: its usage line, what it does, its arguments and every option with its default. */
export function commandHelp(name: CommandName, context: HelpContext): string {
  const spec: CommandSpec = COMMANDS[name];
  const lines = [...wrap(`usage: ${usageLine(name, spec)}`, WIDTH).map((l, i) => (i === 0 ? l : `         ${l}`)), '', ...wrap(spec.description, WIDTH)];
  if (spec.withoutSample) {
    const { sample, pipelineFile } = context;
    const text = !sample
      ? `${shown(pipelineFile)} has no sample module (sample.ts beside it; ops/README.md, "Samples"): ${spec.withoutSample}.`
      : sample.error
        ? `The sample module of ${shown(pipelineFile)}, ${shown(sample.file)}, does not load: ${sample.error}`
        : `The sample of ${shown(pipelineFile)} (${shown(sample.file)}): ${sample.module?.description ?? 'its module describes it in no description export'}.`;
    lines.push('', ...wrap(text, WIDTH));
  }
  if (spec.args) lines.push('', 'arguments:', ...columns([[spec.args.usage, spec.args.help]]));
  const options: Array<[string, string]> = Object.entries(spec.options).map(([o, s]) => {
    const fallback = typeof s.default === 'function' ? s.default(context) : s.default;
    return [
      s.type === 'boolean' ? `--${o}` : `--${o} ${s.value ?? 'VALUE'}`,
      `${s.help}${s.required ? ' (required)' : fallback ? ` (default: ${fallback})` : ''}`,
    ];
  });
  lines.push('', 'options:', ...columns([...options, ['-h, --help', 'print this help']]));
  return `${lines.join('\n')}\n`;
}
