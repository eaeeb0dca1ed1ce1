import { Agent, request } from 'node:http';
import type { S3EventRecord } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../local/ports';
import { type NotificationReceiver, startNotificationReceiver } from '../../local/s3-notifications';

const minioEvent = (key: string) =>
  JSON.stringify({
    Records: [
      {
        eventTime: new Date().toISOString(),
        eventName: 's3:ObjectCreated:Put',
        awsRegion: 'us-east-1',
        s3: { bucket: { name: 'raw' }, object: { key: encodeURIComponent(`landing/${key}`), size: 1, eTag: 'e', versionId: 'v1', sequencer: '01' } },
      },
    ],
  });

interface Posted {
  status: number;
  connection: string | undefined;
  reusedSocket: boolean;
}

/** POSTs one event through `agent`, as MinIO's webhook target does. */
function post(port: number, agent: Agent, fn: string, body: string): Promise<Posted> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: `/events/${fn}`, agent, headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, reusedSocket: req.reusedSocket }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

// MinIO keeps an idle webhook connection 15 s and Node closes it after 6 s: an event posted on it
// as it closes fails with EOF, and MinIO (no queue directory) drops it. No connection is reused.
describe('the S3 notification receiver', () => {
  let receiver: NotificationReceiver | undefined;
  let agent: Agent | undefined;
  afterEach(async () => {
    agent?.destroy();
    await receiver?.close();
  });

  it('closes the connection of every event, so a keep-alive client never posts on one the receiver may close while idle', async () => {
    const delivered: S3EventRecord[] = [];
    const port = await freePort();
    receiver = await startNotificationReceiver(port, (_fn, event) => delivered.push(...event.Records));
    // one socket at most, kept alive: the second event goes on the first one's connection if it is left open
    agent = new Agent({ keepAlive: true, maxSockets: 1 });

    const first = await post(port, agent, 'validate', minioEvent('a.csv'));
    const second = await post(port, agent, 'validate', minioEvent('b.csv'));

    expect([first.status, second.status]).toEqual([200, 200]);
    expect([first.connection, second.connection]).toEqual(['close', 'close']);
    expect(second.reusedSocket).toBe(false);
    expect(delivered.map((r) => decodeURIComponent(r.s3.object.key))).toEqual(['landing/a.csv', 'landing/b.csv']);
  });

  it('closes the connection of a refused request too', async () => {
    const port = await freePort();
    receiver = await startNotificationReceiver(port, () => undefined);
    agent = new Agent({ keepAlive: true, maxSockets: 1 });

    const refused = await post(port, agent, 'validate', '{not json');
    const next = await post(port, agent, 'validate', minioEvent('c.csv'));

    expect(refused).toMatchObject({ status: 400, connection: 'close' });
    expect(next).toMatchObject({ status: 200, reusedSocket: false });
  });
});
