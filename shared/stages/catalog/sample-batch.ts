import type { Pipeline } from '../../core/config/load-config';
import type { JobConfig } from '../../core/config/types';
import { compileKeyPattern, isDateFormat, type FieldFormat } from '../../core/datasets/key-pattern';

/** A value of each key field format as the engine records it (dates YYYY-MM-DD, times HH:MM:SS). */
const SAMPLE_OF_FORMAT: Record<FieldFormat, string> = {
  segment: '0',
  TEXT: '0',
  YYYYMMDD: '2000-01-01',
  'YYYY-MM-DD': '2000-01-01',
  'YYYY/MM/DD': '2000-01-01',
  HHMMSS: '00:00:00',
  HH: '00',
};

/**
 * One batch key a job could be run with: a listed value where the configuration lists them, else a
 * value of the field's key format (a date for the date field). The SQL check binds the job's SQL
 * with these, so a cast of a parameter (CAST($hour AS INTEGER)) sees a value it can take.
 */
export function sampleBatchValues(pipeline: Pipeline, job: JobConfig): Record<string, string> {
  const formats = new Map<string, FieldFormat>();
  for (const { pattern } of pipeline.datasets) for (const f of pattern.fields) if (!formats.has(f.name)) formats.set(f.name, f.format);
  // the job's own datasets first: another dataset may use the name with another format
  for (const input of job.inputs) {
    const dataset = input.dataset ? pipeline.datasetsByName.get(input.dataset) : undefined;
    if (dataset) for (const f of compileKeyPattern(dataset.keyPattern).fields) formats.set(f.name, f.format);
  }
  const listed = pipeline.listed.get(job.name) ?? {};
  return Object.fromEntries(
    job.batchKey.map((key) => {
      const format = formats.get(key) ?? 'segment';
      const value = key === job.dateField || isDateFormat(format) ? '2000-01-01' : (listed[key]?.[0] ?? SAMPLE_OF_FORMAT[format]);
      return [key, value];
    }),
  );
}
