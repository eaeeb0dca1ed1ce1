import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSql } from '../../shared/stages/transform/sql-files';

const dir = mkdtempSync(join(tmpdir(), 'landfall-sql-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("a stage's SQL file", () => {
  it('is read when its name is versioned', async () => {
    const file = join(dir, 'aggregate.v12.sql');
    writeFileSync(file, 'SELECT 1;\n');
    expect(await loadSql(file)).toBe('SELECT 1;\n');
  });

  it.each(['aggregate.sql', 'aggregate.v.sql', 'Aggregate.v1.sql', 'aggregate.v1.sql.bak', 'aggregate-daily.v1.sql', 'aggregate.v1.SQL'])(
    'is refused, before any read, when named %j',
    async (name) => {
      // the file is not there: the name alone is refused
      await expect(loadSql(join(dir, 'missing', name))).rejects.toThrow(`not a versioned SQL file: ${JSON.stringify(join(dir, 'missing', name))}`);
    },
  );

  it('judges the file name, not the folders', async () => {
    const file = join(dir, 'aggregate.v2.sql');
    writeFileSync(file, 'SELECT 2;\n');
    expect(await loadSql(file)).toBe('SELECT 2;\n');
    await expect(loadSql(join(dir, 'x.v1.sql', 'notes.txt'))).rejects.toThrow('not a versioned SQL file');
  });

  it("fails with the file system's error when a versioned file is missing", async () => {
    await expect(loadSql(join(dir, 'gone.v1.sql'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
