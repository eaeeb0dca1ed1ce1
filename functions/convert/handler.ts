import { s3Client } from '../../shared/aws/clients';
import { loadPipeline } from '../../shared/config/load-config';
import { convertValidatedObject } from '../../shared/convert/convert-object';
import { requireEnv } from '../../shared/errors';
import { s3RecordHandler } from '../../shared/runtime/s3-handler';

/** S3 ObjectCreated on raw validated/ → Parquet under lake processed/ (DuckDB). */
export const handler = s3RecordHandler('convert', (context) => {
  const deps = { s3: s3Client(), pipeline: loadPipeline(), lakeBucket: requireEnv('LAKE_BUCKET'), functionMemoryMb: Number(context.memoryLimitInMB) };
  return (ref) => convertValidatedObject(ref, deps);
});
