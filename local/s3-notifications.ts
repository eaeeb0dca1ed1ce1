import { createServer, type Server } from 'node:http';
import type { S3EventRecord } from 'aws-lambda';
import { decodeS3Key } from '../shared/s3/event-records';

/** S3 encodes keys in events like a form: `+` for a space, `%XX` for the rest, `/` kept. */
export function encodeKeyAsAws(key: string): string {
  return encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+');
}

interface MinioRecord {
  eventTime: string;
  eventName: string;
  awsRegion: string;
  userIdentity?: { principalId?: string };
  requestParameters?: { sourceIPAddress?: string };
  responseElements?: Record<string, string>;
  s3: {
    configurationId?: string;
    bucket: { name: string; arn?: string };
    object: { key: string; size?: number; eTag?: string; versionId?: string; sequencer?: string };
  };
}

/**
 * Re-shapes a MinIO notification record into the record AWS S3 sends to Lambda: eventSource
 * `aws:s3`, eventName without the `s3:` prefix, and the key encoded the AWS way (MinIO escapes `/`).
 */
export function toAwsRecord(record: MinioRecord): S3EventRecord {
  const key = decodeS3Key(record.s3.object.key);
  const object: S3EventRecord['s3']['object'] = {
    key: encodeKeyAsAws(key),
    size: record.s3.object.size ?? 0,
    eTag: record.s3.object.eTag ?? '',
    sequencer: record.s3.object.sequencer ?? '',
  };
  if (record.s3.object.versionId) object.versionId = record.s3.object.versionId;
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: record.awsRegion,
    eventTime: record.eventTime,
    eventName: record.eventName.replace(/^s3:/, ''),
    userIdentity: { principalId: record.userIdentity?.principalId ?? 'local' },
    requestParameters: { sourceIPAddress: record.requestParameters?.sourceIPAddress ?? '127.0.0.1' },
    responseElements: {
      'x-amz-request-id': record.responseElements?.['x-amz-request-id'] ?? '',
      'x-amz-id-2': record.responseElements?.['x-amz-id-2'] ?? '',
    },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: record.s3.configurationId ?? 'local',
      bucket: { name: record.s3.bucket.name, ownerIdentity: { principalId: 'local' }, arn: `arn:aws:s3:::${record.s3.bucket.name}` },
      object,
    },
  };
}

/**
 * The webhook MinIO posts to: `/events/<function>` (one MinIO target per function). Each record
 * becomes one Lambda event, as S3 sends one record per event.
 */
export async function startNotificationReceiver(port: number, deliver: (functionName: string, event: { Records: S3EventRecord[] }) => void): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const match = /^\/events\/([A-Za-z0-9_-]+)$/.exec(req.url ?? '');
      if (req.method !== 'POST' || !match) {
        res.writeHead(req.method === 'HEAD' || req.method === 'GET' ? 200 : 404).end();
        return;
      }
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { Records?: MinioRecord[] };
        for (const record of body.Records ?? []) deliver(match[1]!.toLowerCase(), { Records: [toAwsRecord(record)] });
        res.writeHead(200).end();
      } catch (err) {
        res.writeHead(400).end(String(err));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}
