import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { onFreePort, startTogether } from '../../local/servers';

// A port free when picked may be taken before the server binds it (tests start stacks in parallel).
describe('starting a local server on a free port', () => {
  const dir = mkdtempSync(join(tmpdir(), 'landfall-ports-'));
  const log = (attempt: number) => join(dir, `server.${attempt}.log`);

  it('starts again on another port when the port was taken in between', async () => {
    const ports: number[] = [];
    const server = await onFreePort(async (port, attempt) => {
      ports.push(port);
      if (attempt === 0) {
        writeFileSync(log(attempt), 'Caused by: java.net.BindException: Address already in use\n');
        throw new Error('DynamoDB Local exited with code 1');
      }
      return { endpoint: `http://127.0.0.1:${port}`, process: undefined as never };
    }, log);
    expect(ports).toHaveLength(2);
    expect(server.endpoint).toBe(`http://127.0.0.1:${ports[1]}`);
  });

  it('does not retry another failure', async () => {
    let attempts = 0;
    const failing = onFreePort(
      async (_port, attempt) => {
        attempts += 1;
        writeFileSync(log(attempt + 10), 'Error: could not find or load main class\n');
        throw new Error('exited with code 1');
      },
      (attempt) => log(attempt + 10),
    );
    await expect(failing).rejects.toThrow('exited with code 1');
    expect(attempts).toBe(1);
  });
});

describe('starting the local servers together', () => {
  const server = (name: string, stopped: string[]) => ({ endpoint: `http://${name}`, process: { stop: async () => void stopped.push(name) } as never });

  it('stops the servers that started when another did not (none is left running)', async () => {
    const stopped: string[] = [];
    const failing = startTogether([Promise.resolve(server('minio', stopped)), Promise.reject(new Error('DynamoDB Local exited with code 1'))]);
    await expect(failing).rejects.toThrow('DynamoDB Local exited');
    expect(stopped).toEqual(['minio']);
  });

  it('returns them all, in order, when all started', async () => {
    const stopped: string[] = [];
    expect((await startTogether([Promise.resolve(server('a', stopped)), Promise.resolve(server('b', stopped))])).map((s) => s.endpoint)).toEqual([
      'http://a',
      'http://b',
    ]);
    expect(stopped).toEqual([]);
  });
});
