import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pipeline } from '../../core/config/load-config';
import type { DatasetConfig, JobConfig } from '../../core/config/types';
import { undeclaredCheckColumns } from '../../core/checks/check-columns';
import { openDuckDb } from '../../core/duckdb/duckdb';
import { describeParquet, emptyDeclaredFile, emptyProcessedFile, type FileColumn } from './empty-files';
import { sampleBatchValues } from './sample-batch';
import { SqlBindingError, bindSqlStage, type SqlProblem } from './sql-binding';

/** What one pass over the pipeline learns: each table's columns, and each SQL stage that does not bind. */
export interface PipelineBinding {
  datasets: Array<{ dataset: DatasetConfig; columns: FileColumn[] }>;
  /** each job's output columns: its last SQL stage's result, or a Spark job's declared single table */
  jobs: Array<{ job: JobConfig; columns?: FileColumn[] }>;
  problems: SqlProblem[];
  /** jobs whose SQL could not be bound, and why (an input whose columns are unknown) */
  notChecked: string[];
  /** how many SQL stages were bound */
  stagesBound: number;
}

/**
 * Binds every SQL stage of every job (engine duckdb or auto) to its relations and parameters, in
 * one in-process DuckDB over empty files: each dataset's processed file as convert writes it (its
 * key_ and source_ lineage columns included), each upstream job's output as its last stage writes it
 * (or as a Spark job declares it). A job's stages do not chain: each reads the job's inputs and
 * writes the batch's partition (see runStage), so each is bound to the inputs. Upstream jobs first.
 * A job's output key and warehouse load keys are checked against its output columns too, and a
 * Spark job's checks against its declared columns and its inputs'.
 */
export async function bindPipeline(pipeline: Pipeline): Promise<PipelineBinding> {
  const dir = await mkdtemp(join(tmpdir(), 'landfall-sql-check-'));
  const duckdb = await openDuckDb({ workDir: dir, functionMemoryMb: 1024, threads: 1 });
  const binding: PipelineBinding = { datasets: [], jobs: [], problems: [], notChecked: [], stagesBound: 0 };
  /** an empty Parquet file of each source (dataset or job output), as the next reader's input */
  const emptyFiles = new Map<string, string>();
  try {
    for (const dataset of pipeline.config.datasets) {
      const path = join(dir, `processed-${dataset.name}.parquet`);
      await emptyProcessedFile(duckdb.conn, dataset, dir, path);
      emptyFiles.set(dataset.name, path);
      binding.datasets.push({ dataset, columns: await describeParquet(duckdb.conn, path) });
    }
    const done = new Set<string>();
    const visit = async (job: JobConfig): Promise<void> => {
      if (done.has(job.name)) return;
      done.add(job.name);
      for (const input of job.inputs) if (input.job) await visit(pipeline.jobsByName.get(input.job)!);
      if (!job.stages.some((s) => s.sql)) {
        // a Spark job: a downstream job reads the single table it declares
        const out = join(dir, `curated-${job.name}.parquet`);
        const declared = job.output.columns && !job.output.tables && (await emptyDeclaredFile(duckdb.conn, job.output.columns, out));
        if (declared) emptyFiles.set(job.name, out);
        binding.jobs.push({ job, ...(declared ? { columns: await describeParquet(duckdb.conn, out) } : {}) });
        binding.problems.push(...checkColumnProblems(job, pipeline.config.jobs.indexOf(job), binding));
        return;
      }
      const unknown = job.inputs.filter((i) => !emptyFiles.has(i.source));
      if (unknown.length > 0) {
        binding.notChecked.push(
          `job ${job.name}: its SQL is not checked: the columns of ${unknown.map((i) => `${i.relation} (job ${i.source})`).join(', ')} are unknown (the upstream job's SQL does not bind, or a Spark job declares no output.columns)`,
        );
        binding.jobs.push({ job });
        return;
      }
      const inputs = Object.fromEntries(job.inputs.map((i) => [i.relation, emptyFiles.get(i.source)!]));
      const values = sampleBatchValues(pipeline, job);
      const index = pipeline.config.jobs.indexOf(job);
      let lastBound = false;
      for (const [s, stage] of job.stages.entries()) {
        const at = { job: job.name, stage: stage.name, field: `jobs[${index}].stages[${s}].sql`, file: stage.sql! };
        const problem = await bindSqlStage(duckdb.conn, { ...at, inputs, values, outputPath: join(dir, `curated-${job.name}-${s}.parquet`) });
        binding.stagesBound += 1;
        if (problem) binding.problems.push(problem);
        lastBound = !problem;
      }
      // the last stage writes the batch's partition: a reader is checked against it even when an earlier stage fails
      const last = job.stages.length - 1;
      const out = join(dir, `curated-${job.name}-${last}.parquet`);
      if (!lastBound) {
        binding.jobs.push({ job });
        return;
      }
      const columns = await describeParquet(duckdb.conn, out);
      emptyFiles.set(job.name, out);
      binding.jobs.push({ job, columns });
      const problem = missingOutputColumns(job, columns);
      if (problem)
        binding.problems.push({ job: job.name, stage: job.stages[last]!.name, field: `jobs[${index}].output`, file: job.stages[last]!.sql!, problem });
    };
    for (const job of pipeline.config.jobs) await visit(job);
  } finally {
    duckdb.close();
    await rm(dir, { recursive: true, force: true });
  }
  return binding;
}

/** The columns of a job input's source as this pass knows them (a dataset, or an upstream job bound before it). */
function sourceColumns(binding: PipelineBinding, source: string): string[] | undefined {
  const dataset = binding.datasets.find((d) => d.dataset.name === source);
  return (dataset ?? binding.jobs.find((j) => j.job.name === source))?.columns?.map((c) => c.name);
}

/**
 * A Spark job's checks naming a column their table does not declare (`output.columns`, a table's
 * in `output.tables`) or their input does not have: the step would find it minutes into a run.
 */
function checkColumnProblems(job: JobConfig, index: number, binding: PipelineBinding): SqlProblem[] {
  const last = job.stages.at(-1)!;
  const relations = new Map(job.inputs.map((i) => [i.relation, i.source]));
  return undeclaredCheckColumns(job, (relation) => {
    const source = relations.get(relation);
    return source === undefined ? undefined : sourceColumns(binding, source);
  }).map(({ index: i, problem }) => ({ job: job.name, stage: last.name, field: `jobs[${index}].checks[${i}]`, file: last.spark ?? '', problem }));
}

/**
 * The output key and the warehouse load keys name columns of the result, or partition fields (the
 * batch's values, from the path): anything else fails the curated export or the load at run time.
 */
function missingOutputColumns(job: JobConfig, columns: FileColumn[]): string | undefined {
  const known = new Set([...columns.map((c) => c.name), ...job.output.partitionBy]);
  const wanted = [
    ...job.output.key.map((k) => ({ k, by: 'output.key' })),
    ...(job.load ?? []).filter((l) => l.table === job.output.table).flatMap((l) => l.key.map((k) => ({ k, by: `the load into ${l.into}` }))),
  ];
  const missing = wanted.filter(({ k }) => !known.has(k));
  if (missing.length === 0) return undefined;
  return `${missing.map(({ k, by }) => `${k} (${by})`).join(', ')} is not a column of the last stage's result (${columns.map((c) => c.name).join(', ')}) nor a partition field (${job.output.partitionBy.join(', ')})`;
}

/** The pipeline's SQL, bound: what `landfall config` reports. */
export async function checkPipelineSql(pipeline: Pipeline): Promise<{ problems: SqlProblem[]; notChecked: string[]; stagesBound: number }> {
  const { problems, notChecked, stagesBound } = await bindPipeline(pipeline);
  return { problems, notChecked, stagesBound };
}

/** Throws SqlBindingError naming every SQL stage that does not bind; else what was checked. */
export async function assertPipelineSql(pipeline: Pipeline): Promise<{ notChecked: string[]; stagesBound: number }> {
  const { problems, notChecked, stagesBound } = await checkPipelineSql(pipeline);
  if (problems.length > 0) throw new SqlBindingError(problems, pipeline.dir);
  return { notChecked, stagesBound };
}
