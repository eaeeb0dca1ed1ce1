import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { compileKeyPattern, matchKey, type CompiledKeyPattern } from '../datasets/key-pattern';
import { ConfigError } from '../errors';
import { ARCHIVE_MEMBER_SEPARATOR } from '../s3/layout';
import { setting } from '../settings';
import { listedValuesOf, parsePipelineConfig } from './parse-config';
import { checkSparkModules } from './spark-package';
import { codeHashOf } from './code-hash';
import type { ArchiveConfig, DatasetConfig, JobConfig, JobInput, PipelineConfig } from './types';

export interface Pipeline {
  config: PipelineConfig;
  /** the configuration file's folder (relative references were resolved against it), if from a file */
  dir?: string;
  datasets: Array<{ config: DatasetConfig; pattern: CompiledKeyPattern }>;
  /** the kinds of zip archive whose members land as files of their own */
  archives: Array<{ config: ArchiveConfig; pattern: CompiledKeyPattern }>;
  datasetsByName: Map<string, DatasetConfig>;
  jobsByName: Map<string, JobConfig>;
  /** the jobs reading each source (a dataset, or a job's output): a landed file concerns only these */
  readersOf: Map<string, Array<{ job: JobConfig; input: JobInput }>>;
  /** the listed values of each job's batch key fields (for the batches one file completes) */
  listed: Map<string, Record<string, string[]>>;
}

export type KeyResolution =
  | { kind: 'matched'; dataset: DatasetConfig; fields: Record<string, string> }
  | { kind: 'rejected'; dataset: DatasetConfig; reason: string }
  /** a zip archive: its members are unpacked as landed files of their own (`<key>!/<member>`) */
  | { kind: 'archive'; archive: ArchiveConfig; fields: Record<string, string> }
  | { kind: 'unrecognised'; reason: string };

/** Validates a configuration and builds the indexes the engine looks things up by. */
export function compilePipeline(raw: unknown, options: { baseDir?: string } = {}): Pipeline {
  const config = parsePipelineConfig(raw, options);
  checkSparkModules(config);
  const datasetsByName = new Map(config.datasets.map((d) => [d.name, d]));
  const jobsByName = new Map(config.jobs.map((j) => [j.name, j]));
  const readersOf = new Map<string, Array<{ job: JobConfig; input: JobInput }>>();
  const listed = new Map<string, Record<string, string[]>>();
  for (const job of config.jobs) {
    for (const input of job.inputs) readersOf.set(input.source, [...(readersOf.get(input.source) ?? []), { job, input }]);
    const values: Record<string, string[]> = {};
    for (const key of job.batchKey) {
      const list = listedValuesOf(datasetsByName, jobsByName, job, key);
      if (list) values[key] = list;
    }
    listed.set(job.name, values);
    // once, while loading: a run's identity includes it (docs/backfill.md)
    codeHashOf(job);
  }
  return {
    config,
    ...(options.baseDir ? { dir: options.baseDir } : {}),
    datasets: config.datasets.map((d) => ({ config: d, pattern: compileKeyPattern(d.keyPattern) })),
    archives: (config.archives ?? []).map((a) => ({ config: a, pattern: compileKeyPattern(a.keyPattern) })),
    datasetsByName,
    jobsByName,
    readersOf,
    listed,
  };
}

/** Reads a configuration file (JSON, or YAML by its .yaml/.yml extension); errors name the file. */
export function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError('(file)', `cannot read it: ${(err as Error).message}`, file);
  }
  if (/\.ya?ml$/i.test(file)) {
    // loaded when needed: a deployed function reads the JSON the deploy bundled, and its bundle
    // stays without a YAML parser
    const yaml = createRequire(import.meta.url)('yaml') as typeof import('yaml');
    try {
      return yaml.parse(text, { prettyErrors: true, uniqueKeys: true });
    } catch (err) {
      if (err instanceof yaml.YAMLParseError) {
        const at = err.linePos?.[0];
        throw new ConfigError(at ? `(line ${at.line}, column ${at.col})` : '(yaml)', `not valid YAML: ${err.message.split('\n')[0]}`, file);
      }
      throw err;
    }
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError('(json)', `not valid JSON: ${(err as Error).message}`, file);
  }
}

/** A configuration file, validated, its relative references resolved against its folder. */
export function loadPipelineFile(file: string): Pipeline {
  const absolute = resolve(file);
  try {
    return compilePipeline(readConfigFile(absolute), { baseDir: dirname(absolute) });
  } catch (err) {
    throw err instanceof ConfigError ? err.inFile(absolute) : err;
  }
}

/** Where a deployed function finds the configuration the deploy bundled beside it. */
const BUNDLED = fileURLToPath(new URL('./pipeline/pipeline.json', import.meta.url));

let cached: { file: string; pipeline: Pipeline } | undefined;

/**
 * The pipeline a function runs: the file named by LANDFALL_CONFIG_FILE (the local stack, `landfall
 * run --config`), or the one the deploy bundled beside the handler (pipeline/pipeline.json).
 */
export function loadPipeline(env: NodeJS.ProcessEnv = process.env): Pipeline {
  const named = setting('LANDFALL_CONFIG_FILE', env);
  const file = named ?? BUNDLED;
  if (cached?.file === file) return cached.pipeline;
  if (!existsSync(file)) {
    throw new ConfigError(
      '(file)',
      named ? 'does not exist' : 'no pipeline configuration: set LANDFALL_CONFIG_FILE, or deploy with --param="pipeline=path/to/pipeline.yaml"',
      file,
    );
  }
  const pipeline = loadPipelineFile(file);
  cached = { file, pipeline };
  return pipeline;
}

/** Which dataset a key under `landing/` belongs to, with the values its pattern captures. */
export function resolveLandingKey(pipeline: Pipeline, relativeKey: string): KeyResolution {
  // an archive's member is never unpacked again (a zip inside a zip is a member like any other):
  // validate puts members under landing/, and this keeps their landing from unpacking without end
  const member = relativeKey.includes(ARCHIVE_MEMBER_SEPARATOR);
  for (const { config, pattern } of member ? [] : pipeline.archives) {
    const match = matchKey(pattern, relativeKey);
    if (match?.ok) return { kind: 'archive', archive: config, fields: match.fields };
  }
  for (const { config, pattern } of pipeline.datasets) {
    const match = matchKey(pattern, relativeKey);
    if (match === null) continue;
    if (!match.ok) return { kind: 'rejected', dataset: config, reason: match.reason };
    for (const [field, allowed] of Object.entries(config.keyFieldValues ?? {})) {
      const value = match.fields[field]!;
      if (!allowed.includes(value)) {
        return { kind: 'rejected', dataset: config, reason: `key field ${field}: "${value}" is not one of ${allowed.join(', ')}` };
      }
    }
    const members = config.members;
    if (members) {
      const group = match.fields[members.per]!;
      const known = members.values[group] ?? [];
      const value = match.fields[members.field]!;
      if (!known.includes(value)) {
        return {
          kind: 'rejected',
          dataset: config,
          reason: `unknown ${members.field} "${value}" for ${members.per} ${group} (known: ${known.join(', ') || 'none'})`,
        };
      }
    }
    return { kind: 'matched', dataset: config, fields: match.fields };
  }
  return { kind: 'unrecognised', reason: `key matches no dataset (patterns: ${pipeline.datasets.map((d) => d.pattern.source).join(', ')})` };
}

/** The job a run names; a name the configuration does not have is an error. */
export function jobNamed(pipeline: Pipeline, name: string): JobConfig {
  const job = pipeline.jobsByName.get(name);
  if (!job) throw new Error(`no job "${name}" in the pipeline configuration`);
  return job;
}
