import { s3Client, documentClient } from '../../shared/aws/clients';
import { loadPipeline } from '../../shared/config/load-config';
import { requireEnv } from '../../shared/errors';
import { s3RecordHandler } from '../../shared/runtime/s3-handler';
import { FileStateStore } from '../../shared/state/file-state-store';
import { validateLandedObject } from '../../shared/validate/validate-object';

/** S3 ObjectCreated on raw landing/ → RECEIVED, then the verdict under validated/ + rejected/ + reports/. */
export const handler = s3RecordHandler('validate', (context) => {
  const deps = {
    s3: s3Client(),
    store: new FileStateStore(documentClient(), requireEnv('FILE_STATE_TABLE')),
    pipeline: loadPipeline(),
    rawBucket: requireEnv('RAW_BUCKET'),
    functionMemoryMb: Number(context.memoryLimitInMB),
  };
  return (ref) => validateLandedObject(ref, deps);
});
