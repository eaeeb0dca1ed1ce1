import { createServer, type Server } from 'node:http';
import type { S3EventRecord } from 'aws-lambda';
import { decodeS3Key } from '../shared/core/s3/event-records';

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
 * Fault injection on delivery, read for every event so it can be switched at run time: S3 delivers
 * at least once and in no particular order, so a test can make it deliver twice and out of order.
 */
export interface DeliveryChaos {
  /** deliver each event twice, the copy right after the original */
  duplicate(): boolean;
  /** > 0: hold events for this many ms and deliver each burst (per function) last-first */
  reverseWindowMs(): number;
  /** told what was done (the events concerned), for the counters */
  record(what: 'duplicated' | 'burstReversed', records: S3EventRecord[]): void;
}

export interface ReceiverOptions {
  chaos?: DeliveryChaos;
  /** called when a request arrives (before any holding), so an idle check sees the activity */
  onArrival?: () => void;
}

export interface NotificationReceiver {
  server: Server;
  /** events held for a reversed burst, not yet delivered */
  held(): number;
  close(): Promise<void>;
}

/**
 * The webhook MinIO posts to: `/events/<function>` (one MinIO target per function). Each record
 * becomes one Lambda event, as S3 sends one record per event.
 *
 * Every answer closes its connection (`Connection: close`). MinIO keeps an idle connection for
 * 15 s and posts the next event on it, while Node closes an idle one after 6 s (keepAliveTimeout
 * plus its buffer): an event posted as the receiver closes that connection fails (EOF or a reset),
 * and a webhook target without a queue directory drops it for good (measured: 7 of 129 events put
 * about 6 s apart were lost). A connection per event has no idle time to race on.
 */
export async function startNotificationReceiver(
  port: number,
  deliver: (functionName: string, event: { Records: S3EventRecord[] }) => void,
  options: ReceiverOptions = {},
): Promise<NotificationReceiver> {
  const { chaos } = options;
  const bursts = new Map<string, S3EventRecord[]>();
  const timers = new Set<NodeJS.Timeout>();
  const deliverShaped = (fn: string, record: S3EventRecord) => {
    deliver(fn, { Records: [record] });
    if (chaos?.duplicate()) {
      deliver(fn, { Records: [structuredClone(record)] });
      chaos.record('duplicated', [record]);
    }
  };
  const accept = (fn: string, record: S3EventRecord) => {
    const window = chaos?.reverseWindowMs() ?? 0;
    if (window <= 0) return deliverShaped(fn, record);
    const burst = bursts.get(fn);
    if (burst) return void burst.push(record);
    bursts.set(fn, [record]);
    const timer = setTimeout(() => {
      timers.delete(timer);
      const held = bursts.get(fn) ?? [];
      bursts.delete(fn);
      if (held.length > 1) chaos!.record('burstReversed', held);
      for (const r of held.reverse()) deliverShaped(fn, r);
    }, window);
    timers.add(timer);
  };
  const server = createServer((req, res) => {
    res.shouldKeepAlive = false;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const match = /^\/events\/([A-Za-z0-9_-]+)$/.exec(req.url ?? '');
      if (req.method !== 'POST' || !match) {
        res.writeHead(req.method === 'HEAD' || req.method === 'GET' ? 200 : 404).end();
        return;
      }
      options.onArrival?.();
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { Records?: MinioRecord[] };
        for (const record of body.Records ?? []) accept(match[1]!.toLowerCase(), toAwsRecord(record));
        res.writeHead(200).end();
      } catch (err) {
        res.writeHead(400).end(String(err));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    server,
    held: () => [...bursts.values()].reduce((n, b) => n + b.length, 0),
    close() {
      // Held events die with the receiver, as undelivered events die with a stopped stack.
      for (const timer of timers) clearTimeout(timer);
      bursts.clear();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
