import { documentClient, s3Client } from '../../shared/core/aws/clients';
import { s3RecordHandler } from '../../shared/core/runtime/s3-handler';
import { setting } from '../../shared/core/settings';
import { FileStateStore } from '../../shared/core/state/file-state-store';
import { trackObject } from '../../shared/stages/track';

/** S3 ObjectCreated on raw reports/*.json and lake processed/ → the file-state table. */
export const handler = s3RecordHandler('track', () => {
  const deps = {
    s3: s3Client(),
    store: new FileStateStore(documentClient(), setting('FILE_STATE_TABLE')),
    rawBucket: setting('RAW_BUCKET'),
    lakeBucket: setting('LAKE_BUCKET'),
  };
  return (ref) => trackObject(ref, deps);
});
