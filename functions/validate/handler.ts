import { s3Client, documentClient, snsClient } from '../../shared/core/aws/clients';
import { loadPipeline } from '../../shared/core/config/load-config';
import { s3RecordHandler } from '../../shared/core/runtime/s3-handler';
import { setting } from '../../shared/core/settings';
import { FileStateStore } from '../../shared/core/state/file-state-store';
import { validateLandedObject } from '../../shared/stages/validate';

/** S3 ObjectCreated on raw landing/ → RECEIVED, then the verdict under validated/ + rejected/ + reports/. */
export const handler = s3RecordHandler('validate', (context) => {
  const deps = {
    s3: s3Client(),
    store: new FileStateStore(documentClient(), setting('FILE_STATE_TABLE')),
    pipeline: loadPipeline(),
    rawBucket: setting('RAW_BUCKET'),
    alerts: { sns: snsClient(), topicArn: setting('FAILURE_TOPIC_ARN') },
    functionMemoryMb: Number(context.memoryLimitInMB),
  };
  return (ref) => validateLandedObject(ref, deps);
});
