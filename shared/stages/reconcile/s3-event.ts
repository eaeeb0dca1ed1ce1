import type { S3Event } from 'aws-lambda';
import type { ObjectRef } from '../../core/s3/event-records';
import { setting } from '../../core/settings';

/** S3 encodes keys in events form-style (`+` for a space); `decodeS3Key` undoes exactly this. */
const encodeS3Key = (key: string) => encodeURIComponent(key).replace(/%20/g, '+');

/**
 * The S3 notification a stage would have received for this object version: a re-drive invokes the
 * stage's own function with it, so the re-driven work runs exactly the code (and permissions) of
 * the first attempt.
 */
export function s3EventFor(ref: Partial<ObjectRef> & Pick<ObjectRef, 'bucket' | 'key'>, now = new Date()): S3Event {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: setting('AWS_REGION'),
        eventTime: ref.eventTime || now.toISOString(),
        eventName: 'ObjectCreated:Put',
        userIdentity: { principalId: 'landfall-reconciler' },
        requestParameters: { sourceIPAddress: '127.0.0.1' },
        responseElements: { 'x-amz-request-id': 'landfall-reconciler', 'x-amz-id-2': 'landfall-reconciler' },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'landfall-redrive',
          bucket: { name: ref.bucket, ownerIdentity: { principalId: 'landfall' }, arn: `arn:aws:s3:::${ref.bucket}` },
          object: {
            key: encodeS3Key(ref.key),
            size: ref.size ?? 0,
            eTag: ref.eTag ?? '',
            ...(ref.versionId && ref.versionId !== 'null' ? { versionId: ref.versionId } : {}),
            sequencer: ref.sequencer ?? '',
          },
        },
      },
    ],
  };
}
