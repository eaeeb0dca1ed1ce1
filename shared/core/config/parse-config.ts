import { existsSync, readdirSync, statSync, type Dirent } from 'node:fs';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../errors';
import { dependencyOrder } from './job-graph';
import { parseLookups } from './lookups';
import { parseDataset } from './parse-dataset';
import { datasetShape, jobShape, parseJob, upstreamJobsOf, type SourceShape } from './parse-job';
import type * as In from './pipeline-input.generated';
import { array, fieldsOf, identifier, noUnknownKeys, number, object, string } from './parse-values';
import { compileKeyPattern } from '../datasets/key-pattern';
import type { ArchiveConfig, DatasetConfig, JobConfig, PipelineConfig } from './types';

const PIPELINE_FIELDS = fieldsOf<In.Pipeline>()(['$schema', 'lookups', 'archives', 'datasets', 'jobs']);
const ARCHIVE_FIELDS = fieldsOf<In.Archive>()(['keyPattern', 'maxMembers', 'maxUnpackedBytes', 'maxRatio']);

/** The schema's defaults of an archive's limits. */
export const ARCHIVE_LIMITS = { maxMembers: 1000, maxUnpackedBytes: 4 * 1024 ** 3, maxRatio: 200 } as const;

function parseArchive(raw: unknown, field: string): ArchiveConfig {
  const obj = object(raw, field);
  noUnknownKeys(obj, ARCHIVE_FIELDS, field);
  const keyPattern = string(obj.keyPattern, `${field}.keyPattern`);
  try {
    compileKeyPattern(keyPattern);
  } catch (err) {
    throw new ConfigError(`${field}.keyPattern`, (err as Error).message);
  }
  return {
    keyPattern,
    maxMembers: number(obj.maxMembers ?? ARCHIVE_LIMITS.maxMembers, `${field}.maxMembers`, 1, 1_000_000, true),
    maxUnpackedBytes: number(obj.maxUnpackedBytes ?? ARCHIVE_LIMITS.maxUnpackedBytes, `${field}.maxUnpackedBytes`, 1, Number.MAX_SAFE_INTEGER, true),
    maxRatio: number(obj.maxRatio ?? ARCHIVE_LIMITS.maxRatio, `${field}.maxRatio`, 1, 1_000_000),
  };
}

export interface ParseOptions {
  /** the folder relative file references (SQL, Spark modules) are resolved against */
  baseDir?: string;
}

/**
 * A stage file, resolved against the configuration's folder; it must exist. Each folder is listed
 * once (a configuration of hundreds of jobs names their SQL files from a few folders: one
 * readdir each instead of two system calls per file, on the functions' cold start).
 */
function fileResolver(baseDir: string | undefined) {
  const listings = new Map<string, Map<string, Dirent> | null>();
  const listing = (dir: string) => {
    if (!listings.has(dir)) {
      let entries: Map<string, Dirent> | null = null;
      try {
        entries = new Map(readdirSync(dir, { withFileTypes: true }).map((e) => [e.name, e]));
      } catch {
        // a folder that cannot be listed holds no file we can use
      }
      listings.set(dir, entries);
    }
    return listings.get(dir)!;
  };
  const isFile = (absolute: string) => {
    const entry = listing(dirname(absolute))?.get(basename(absolute));
    if (!entry) return false;
    // a symbolic link is followed, as a stat would
    return entry.isSymbolicLink() ? existsSync(absolute) && statSync(absolute).isFile() : entry.isFile();
  };
  return (path: string, field: string): string => {
    if (!isAbsolute(path) && !baseDir) throw new ConfigError(field, `"${path}" is relative, but the configuration has no folder to resolve it against`);
    const absolute = isAbsolute(path) ? path : resolve(baseDir!, path);
    if (!isFile(absolute)) throw new ConfigError(field, `file not found: ${absolute}`);
    return absolute;
  };
}

/** The listed values of a batch key field of a parsed job (from the inputs that match it). */
export function listedValuesOf(datasets: Map<string, DatasetConfig>, jobs: Map<string, JobConfig>, job: JobConfig, key: string): string[] | undefined {
  for (const input of job.inputs.filter((i) => i.match.includes(key))) {
    const listed = input.dataset ? datasets.get(input.dataset)?.keyFieldValues?.[key] : listedValuesOf(datasets, jobs, jobs.get(input.job!)!, key);
    if (listed) return listed;
  }
  return undefined;
}

/**
 * Validates an untrusted configuration object (parsed JSON or YAML); every failure names the
 * field it is about. File references become absolute paths, lookups referenced by datasets become
 * the lists they stand for: the result is the effective configuration, and parsing it again gives
 * it back unchanged.
 */
export function parsePipelineConfig(raw: unknown, options: ParseOptions = {}): PipelineConfig {
  const obj = object(raw, 'config');
  if (obj.provinces !== undefined)
    throw new ConfigError(
      'provinces',
      'replaced by lookups: declare lookups: { stores: { ON: [ON01, …] } } and refer to them (members.lookup, minDistinct count: { lookup, by })',
    );
  noUnknownKeys(obj, PIPELINE_FIELDS, 'config');
  const lookups = parseLookups(obj.lookups);
  const archives = array(obj.archives ?? [], 'archives').map((a, i) => parseArchive(a, `archives[${i}]`));
  const datasets = array(obj.datasets, 'datasets').map((d, i) => parseDataset(d, `datasets[${i}]`, lookups));
  const byName = new Map<string, DatasetConfig>();
  datasets.forEach((d, i) => {
    if (byName.has(d.name)) throw new ConfigError(`datasets[${i}].name`, `duplicate dataset "${d.name}"`);
    byName.set(d.name, d);
  });

  const rawJobs = array(obj.jobs ?? [], 'jobs');
  const indexOf = new Map<string, number>();
  const upstreamOf = new Map<string, string[]>();
  rawJobs.forEach((rawJob, i) => {
    const name = identifier(object(rawJob, `jobs[${i}]`).name, `jobs[${i}].name`);
    if (indexOf.has(name)) throw new ConfigError(`jobs[${i}].name`, `duplicate job "${name}"`);
    // a job's partitions are tracked under its name, like a dataset's files
    if (byName.has(name)) throw new ConfigError(`jobs[${i}].name`, `"${name}" is also a dataset's name`);
    indexOf.set(name, i);
    upstreamOf.set(name, upstreamJobsOf(rawJob, `jobs[${i}]`));
  });
  const fieldOf = (name: string) => `jobs[${indexOf.get(name)}]`;
  const datasetShapes = new Map(datasets.map((d) => [d.name, datasetShape(d)]));
  const parsed = new Map<string, JobConfig>();
  const shapes = new Map<string, SourceShape>();
  const file = fileResolver(options.baseDir);
  for (const name of dependencyOrder(upstreamOf, fieldOf)) {
    const job = parseJob(rawJobs[indexOf.get(name)!], fieldOf(name), { lookups, datasets: byName, datasetShapes, shapeOfJob: (n) => shapes.get(n), file });
    parsed.set(name, job);
    shapes.set(
      name,
      jobShape(job, (j, key) => listedValuesOf(byName, parsed, j, key)),
    );
  }
  const tables = new Map<string, string>();
  const jobs = [...indexOf.keys()].map((name) => parsed.get(name)!);
  jobs.forEach((j, i) => {
    for (const table of [j.output.table, ...Object.keys(j.output.tables ?? {})]) {
      const other = tables.get(table);
      if (other && other !== j.name) throw new ConfigError(`jobs[${i}].output.table`, `table "${table}" is also written by job ${other}`);
      tables.set(table, j.name);
    }
  });
  const schemaRef = obj.$schema !== undefined ? string(obj.$schema, '$schema') : undefined;
  // a file reference like the others (a URL stays as it is)
  const schema = schemaRef
    ? { $schema: /^[a-z]+:/i.test(schemaRef) || isAbsolute(schemaRef) || !options.baseDir ? schemaRef : resolve(options.baseDir, schemaRef) }
    : {};
  return { ...schema, lookups, ...(archives.length > 0 ? { archives } : {}), datasets, jobs };
}
