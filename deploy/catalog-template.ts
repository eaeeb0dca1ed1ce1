import { loadPipelineFile } from '../shared/core/config/load-config';
import { catalogResources, catalogTables } from '../shared/stages/catalog';

/**
 * The Glue databases and tables and the Athena workgroup of a pipeline, as CloudFormation resources
 * for the packaged template (deploy/serverless-pipeline-plugin.cjs adds them at package time).
 */
export async function catalogTemplateResources(
  pipelineFile: string,
  stage: string,
  warn: (line: string) => void = () => undefined,
): Promise<Record<string, unknown>> {
  const { tables, skipped } = await catalogTables(loadPipelineFile(pipelineFile));
  for (const line of skipped) warn(`landfall: no Glue table for ${line}`);
  return catalogResources(tables, { stage, lakeBucket: { Ref: 'S3BucketLake' } });
}
