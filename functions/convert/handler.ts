import { s3Client } from '../../shared/core/aws/clients';
import { loadPipeline } from '../../shared/core/config/load-config';
import { convertValidatedObject } from '../../shared/stages/convert';
import { s3RecordHandler } from '../../shared/core/runtime/s3-handler';
import { setting } from '../../shared/core/settings';

/** S3 ObjectCreated on raw validated/ → Parquet under lake processed/ (DuckDB). */
export const handler = s3RecordHandler('convert', (context) => {
  const deps = { s3: s3Client(), pipeline: loadPipeline(), lakeBucket: setting('LAKE_BUCKET'), functionMemoryMb: Number(context.memoryLimitInMB) };
  return (ref) => convertValidatedObject(ref, deps);
});
