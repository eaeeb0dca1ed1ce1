import { dirname, relative, sep } from 'node:path';
import { ConfigError } from '../errors';
import type { PipelineConfig } from './types';

/**
 * A pipeline's Spark stage modules are shipped to EMR as one Python package (pipeline.zip on
 * spark-submit's --py-files), rooted at the folder that holds them all, so a stage module may
 * import its siblings (`from . import schemas`). spark/package.sh builds it.
 */
export const SPARK_PACKAGE = 'landfall_pipeline';

const PYTHON_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The deepest folder holding every Spark stage module of the configuration (absolute paths), if any. */
export function sparkPackageRoot(config: Pick<PipelineConfig, 'jobs'>): string | undefined {
  const dirs = config.jobs.flatMap((j) => j.stages.flatMap((s) => (s.spark ? [dirname(s.spark)] : [])));
  if (dirs.length === 0) return undefined;
  let root = dirs[0]!;
  for (const dir of dirs) while (root !== dirname(root) && dir !== root && !dir.startsWith(root.endsWith(sep) ? root : root + sep)) root = dirname(root);
  return root;
}

/** The import name of a stage module inside the package (`landfall_pipeline.clean`). */
export function sparkModuleName(root: string, file: string, field = 'spark'): string {
  const parts = relative(root, file).replace(/\.py$/, '').split(sep);
  const bad = parts.find((p) => !PYTHON_NAME.test(p));
  if (bad !== undefined)
    throw new ConfigError(field, `"${file}" cannot be imported as a Python module: "${bad}" is not a Python name (letters, digits and _, not first a digit)`);
  return [SPARK_PACKAGE, ...parts].join('.');
}

/** Checks that every Spark stage module of the configuration can be imported from the package. */
export function checkSparkModules(config: Pick<PipelineConfig, 'jobs'>): void {
  const root = sparkPackageRoot(config);
  if (!root) return;
  config.jobs.forEach((job, j) => job.stages.forEach((stage, s) => stage.spark && sparkModuleName(root, stage.spark, `jobs[${j}].stages[${s}].spark`)));
}
