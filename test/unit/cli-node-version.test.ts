import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';

/*
 * bin/landfall.mjs under a Node older than the code needs (22): it runs itself again with the
 * project's own Node (node_modules, Node 24), or says what is needed. The older Node is a system
 * one found on PATH outside node_modules (npm puts the project's first).
 */
const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'landfall.mjs');

function olderNode(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter((d) => d && !d.includes('node_modules')), '/usr/bin', '/usr/local/bin'];
  for (const dir of dirs) {
    const node = join(dir, process.platform === 'win32' ? 'node.exe' : 'node');
    if (!existsSync(node)) continue;
    const version = spawnSync(node, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout ?? '';
    if (Number(version.split('.')[0]) < 22) return node;
  }
  return undefined;
}

const node = olderNode();
const under = node ? `under ${node} (Node < 22)` : 'skipped: no Node older than 22 found on PATH, only ≥ 22 here';

describe('bin/landfall.mjs and the Node it needs', () => {
  it.skipIf(!node)(`${under}: runs under the project's Node, prints the help, exit 0`, () => {
    const result = spawnSync(node!, [BIN, '--help'], { cwd: tmpdir(), encoding: 'utf8', timeout: 60_000 });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('usage: landfall <command> [options]');
  });

  it.skipIf(!node)(`${under}: passes the arguments on and the exit code back`, () => {
    const result = spawnSync(node!, [BIN, 'status', '--bogus'], { cwd: tmpdir(), encoding: 'utf8', timeout: 60_000 });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('unknown option --bogus for `landfall status`');
  });

  it.skipIf(!node)(`${under}, without the project's Node installed: exit 2, naming the version needed and \`npm ci\``, async () => {
    const copy = await mkdtemp(join(tmpdir(), 'landfall-bin-'));
    try {
      await mkdir(join(copy, 'bin'));
      await copyFile(BIN, join(copy, 'bin', 'landfall.mjs'));
      const result = spawnSync(node!, [join(copy, 'bin', 'landfall.mjs'), '--help'], { encoding: 'utf8', timeout: 60_000 });
      expect(result.status).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain(`landfall needs Node.js 22 or newer; this is v`);
      expect(result.stderr).toContain(`Run \`npm ci\` in ${copy}`);
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  });
});
