import { s3Client } from '../../shared/core/aws/clients';
import { loadPipeline } from '../../shared/core/config/load-config';
import { convertValidatedObject } from '../../shared/stages/convert';
import { requireEnv } from '../../shared/core/errors';
import { s3RecordHandler } from '../../shared/core/runtime/s3-handler';

/** S3 ObjectCreated on raw validated/ → Parquet under lake processed/ (DuckDB). */
export const handler = s3RecordHandler('convert', (context) => {
  const deps = { s3: s3Client(), pipeline: loadPipeline(), lakeBucket: requireEnv('LAKE_BUCKET'), functionMemoryMb: Number(context.memoryLimitInMB) };
  return (ref) => convertValidatedObject(ref, deps);
});
