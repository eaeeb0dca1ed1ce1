import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { uploadFile } from '../shared/core/s3/object-io';

/**
 * What a deploy puts in S3 for EMR: spark/package.sh's main.py, landfall_jobs.zip (the engine) and
 * pipeline.zip (the pipeline's Spark stage modules, from the folder holding them), under
 * s3://<lake>/artifacts/spark/ (serverless.yml's SPARK_ENTRY_POINT and SPARK_SUBMIT_ARGS point there).
 */
export async function uploadSparkArtifacts(s3: S3Client, bucket: string, root: string, pipelineSparkRoot: string | undefined): Promise<void> {
  const out = await mkdtemp(join(tmpdir(), 'landfall-spark-'));
  try {
    execFileSync('bash', [join(root, 'spark', 'package.sh'), out, ...(pipelineSparkRoot ? [pipelineSparkRoot] : [])], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    for (const file of ['main.py', 'landfall_jobs.zip', ...(pipelineSparkRoot ? ['pipeline.zip'] : [])]) {
      await uploadFile(s3, bucket, `artifacts/spark/${file}`, join(out, file), {}, 'application/octet-stream');
    }
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}
