import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { crc32, createDeflateRaw, createInflateRaw, deflateRawSync } from 'node:zlib';
import { zipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { FeedRejection } from '../../shared/core/feeds/canonical';
import { ARCHIVE_DEFAULTS, type ArchiveLimits, ArchiveRejection, RATIO_FLOOR_BYTES, unpackArchive } from '../../shared/stages/unpack';

// ---- a zip writer that can lie: every field of an entry may be set by hand ----

interface Crafted {
  /** a string is written as UTF-8 (flag 0x800 set unless `flags` is given); a Buffer as is */
  name: string | Buffer;
  /** the bytes stored in the archive (already deflated when method is 8) */
  data: Buffer;
  method?: number;
  crc?: number;
  /** the declared unpacked size */
  size?: number;
  flags?: number;
  /** a central entry only, pointing at the local header of this earlier entry */
  sameLocalAs?: number;
}

function stored(name: string | Buffer, content: string | Buffer): Crafted {
  const data = Buffer.from(content);
  return { name, data, method: 0, crc: crc32(data), size: data.length };
}

function deflated(name: string | Buffer, content: string | Buffer): Crafted {
  const raw = Buffer.from(content);
  return { name, data: deflateRawSync(raw), method: 8, crc: crc32(raw), size: raw.length };
}

function craftZip(entries: Crafted[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  const offsets: number[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = typeof e.name === 'string' ? Buffer.from(e.name, 'utf8') : e.name;
    const flags = e.flags ?? (typeof e.name === 'string' ? 0x800 : 0);
    const fields = { method: e.method ?? 0, crc: e.crc ?? crc32(e.data), packed: e.data.length, size: e.size ?? e.data.length };
    const localOffset = e.sameLocalAs === undefined ? offset : (offsets[e.sameLocalAs] as number);
    offsets.push(localOffset);
    if (e.sameLocalAs === undefined) {
      const local = Buffer.alloc(30);
      local.writeUInt32LE(0x04034b50, 0);
      local.writeUInt16LE(20, 4);
      local.writeUInt16LE(flags, 6);
      local.writeUInt16LE(fields.method, 8);
      local.writeUInt32LE(fields.crc, 14);
      local.writeUInt32LE(fields.packed, 18);
      local.writeUInt32LE(fields.size, 22);
      local.writeUInt16LE(name.length, 26);
      locals.push(local, name, e.data);
      offset += 30 + name.length + e.data.length;
    }
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(fields.method, 10);
    central.writeUInt32LE(fields.crc, 16);
    central.writeUInt32LE(fields.packed, 20);
    central.writeUInt32LE(fields.size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(localOffset, 42);
    centrals.push(central, name);
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** `bytes` zeros deflated, streamed so that the test never holds them: a zip bomb's payload. */
async function deflatedZeros(bytes: number): Promise<{ data: Buffer; crc: number }> {
  const chunk = Buffer.alloc(1 << 20);
  const deflate = createDeflateRaw({ level: 9 });
  const out: Buffer[] = [];
  deflate.on('data', (b: Buffer) => out.push(b));
  const done = new Promise((resolve) => deflate.on('end', resolve));
  let crc = 0;
  for (let left = bytes; left > 0; left -= chunk.length) {
    const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
    crc = crc32(piece, crc);
    if (!deflate.write(piece)) await new Promise((resolve) => deflate.once('drain', resolve));
  }
  deflate.end();
  await done;
  return { data: Buffer.concat(out), crc };
}

// ---- running it ----

async function workDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'landfall-unpack-'));
}

async function unpackBytes(zip: Buffer | Uint8Array, limits: Partial<ArchiveLimits> = {}) {
  const dir = await workDir();
  const zipPath = join(dir, 'in.zip');
  const outDir = join(dir, 'out');
  await writeFile(zipPath, zip);
  const run = unpackArchive(zipPath, outDir, { ...ARCHIVE_DEFAULTS, ...limits });
  return { run, outDir };
}

/** The reason the archive is rejected for; and that nothing it held was left in outDir. */
async function rejection(zip: Buffer | Uint8Array, limits: Partial<ArchiveLimits> = {}): Promise<string> {
  const { run, outDir } = await unpackBytes(zip, limits);
  const err = await run.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ArchiveRejection);
  expect(await readdir(outDir).catch(() => [])).toEqual([]);
  return (err as ArchiveRejection).message;
}

const csv = (n: number) => `id,name\n${Array.from({ length: n }, (_, i) => `${i},name ${i * 7919}`).join('\n')}\n`;

describe('a hostile archive is rejected whole', () => {
  it.each([
    ['../x.csv', /member "\.\.\/x\.csv".*"\.\." segment/],
    ['/etc/x', /member "\/etc\/x".*absolute path/],
    ['a\\..\\b', /member "a\\\\\.\.\\\\b".*backslash/],
    ['C:/x', /member "C:\/x".*absolute path/],
    ['C:\\x', /absolute path/],
    ['ok/../../x.csv', /"\.\." segment/],
  ])('a member named %j (after a good member, which is not left behind)', async (name, reason) => {
    expect(await rejection(craftZip([deflated('good.csv', csv(10)), deflated(name, 'a\n')]))).toMatch(reason);
  });

  it('a directory entry with a path out of the archive', async () => {
    expect(await rejection(craftZip([stored('../', ''), stored('x.csv', 'a\n')]))).toMatch(/directory "\.\.": a "\.\." segment/);
  });

  describe('zip bombs (500 MB of zeros in half a megabyte)', () => {
    const BOMB = 500 * 1024 * 1024;
    let bomb: { data: Buffer; crc: number };
    /** how long inflating the whole bomb takes here (nothing written): a rejection must take a small part of it */
    let inflateMs: number;
    beforeAll(async () => {
      bomb = await deflatedZeros(BOMB);
      const started = Date.now();
      let inflated = 0;
      for await (const chunk of Readable.from([bomb.data]).pipe(createInflateRaw())) inflated += (chunk as Buffer).length;
      inflateMs = Date.now() - started;
      expect(inflated).toBe(BOMB);
    }, 60_000);

    it('one that declares its size: its ratio rejects it before a byte is unpacked', async () => {
      expect(bomb.data.length).toBeLessThan(1024 * 1024);
      const zip = craftZip([{ name: 'bomb.csv', data: bomb.data, method: 8, crc: bomb.crc, size: BOMB }]);
      const started = Date.now();
      const reason = await rejection(zip);
      expect(reason).toMatch(
        /member "bomb\.csv" declares 524288000 bytes unpacked, \d{3,} times its \d+ packed bytes: more than the ratio of 200 allowed \(a zip bomb\)/,
      );
      expect(Date.now() - started).toBeLessThan(inflateMs / 4); // nothing was inflated
    });

    it('one that declares its size, within the ratio but over the total', async () => {
      const zip = craftZip([{ name: 'bomb.csv', data: bomb.data, method: 8, crc: bomb.crc, size: BOMB }]);
      expect(await rejection(zip, { maxRatio: 5000, maxUnpackedBytes: 100 * 1024 * 1024 })).toMatch(
        /members declare more than 104857600 bytes unpacked in all/,
      );
    });

    it('one whose header lies (declares 1000 bytes): stopped at its declared size as it streams', async () => {
      const zip = craftZip([deflated('good.csv', csv(100)), { name: 'bomb.csv', data: bomb.data, method: 8, crc: bomb.crc, size: 1000 }]);
      // the declared ratio (1000 / packed) passes: only the actual bytes show the bomb
      const started = Date.now();
      expect(await rejection(zip)).toMatch(/member "bomb\.csv" unpacks to more than the 1000 bytes it declares/);
      expect(Date.now() - started).toBeLessThan(inflateMs / 4); // aborted at once: 500 MB were not inflated, nor written
    });
  });

  it('a stored member whose sizes disagree', async () => {
    const zip = craftZip([{ ...stored('x.csv', 'a,b\n1,2\n'), size: 1 << 30 }]);
    expect(await rejection(zip)).toMatch(/central directory cannot be read: compressed\/uncompressed size mismatch/);
  });

  it('a deflated member that unpacks to less than it declares', async () => {
    const zip = craftZip([{ ...deflated('x.csv', csv(10)), size: 5000 }]);
    expect(await rejection(zip)).toMatch(/member "x\.csv" unpacks to fewer than the 5000 bytes it declares/);
  });

  it('members that share their bytes in the archive (an overlapping bomb)', async () => {
    const zip = craftZip([deflated('a.csv', csv(10)), { ...deflated('b.csv', csv(10)), sameLocalAs: 0 }]);
    expect(await rejection(zip)).toMatch(/members "a\.csv" and "b\.csv" overlap in the archive/);
  });

  it('more members than allowed', async () => {
    const zip = craftZip(['a', 'b', 'c', 'd'].map((n) => stored(`${n}.csv`, 'x\n')));
    expect(await rejection(zip, { maxMembers: 3 })).toMatch(/holds more than 3 members/);
    await expect(unpackBytes(zip, { maxMembers: 4 }).then((u) => u.run)).resolves.toMatchObject({ members: { length: 4 } });
  });

  it('members over the unpacked total, declared honestly', async () => {
    const zip = craftZip([stored('a.csv', Buffer.alloc(600, 'a')), stored('b.csv', Buffer.alloc(600, 'b'))]);
    expect(await rejection(zip, { maxUnpackedBytes: 1000 })).toMatch(/declare more than 1000 bytes unpacked in all/);
  });

  it('a truncated archive', async () => {
    const good = Buffer.from(zipSync({ 'a.csv': Buffer.from(csv(200)), 'b.csv': Buffer.from(csv(300)) }));
    expect(await rejection(good.subarray(0, good.length >> 1))).toMatch(/not a readable zip archive \(not a zip, or truncated\)/);
    expect(await rejection(good.subarray(0, good.length - 5))).toMatch(/not a readable zip archive/);
  });

  it("but a file that cannot be read is not the archive's fault: not a rejection", async () => {
    const dir = await workDir();
    const err = await unpackArchive(join(dir, 'missing.zip'), join(dir, 'out'), ARCHIVE_DEFAULTS).catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(ArchiveRejection);
    expect((err as NodeJS.ErrnoException).code).toBe('ENOENT');
  });

  it('a file that is not a zip at all', async () => {
    expect(await rejection(Buffer.from(csv(10)))).toMatch(/not a readable zip archive.*end of central directory/i);
  });

  it('a flipped byte inside the compressed data: no member is left, not even the good first one', async () => {
    const zip = Buffer.from(zipSync({ 'first.csv': Buffer.from(csv(50)), 'second.csv': Buffer.from(csv(5000)) }, { level: 6 }));
    const second = zip.indexOf('second.csv') + 'second.csv'.length; // its data follows its local header's name
    zip[second + 4000] = (zip[second + 4000] as number) ^ 0xff;
    expect(await rejection(zip)).toMatch(/member "second\.csv" (cannot be unpacked \(corrupt data\)|fails its CRC-32 check)/);
  });

  it('a CRC-32 that does not match the bytes', async () => {
    const zip = craftZip([stored('a.csv', 'a\n'), { ...stored('b.csv', 'id\n1\n'), crc: 0xdeadbeef }]);
    expect(await rejection(zip)).toMatch(/member "b\.csv" fails its CRC-32 check \(corrupt data\): 0x[0-9a-f]{8}, not the declared 0xdeadbeef/);
  });

  it('an encrypted member', async () => {
    expect(await rejection(craftZip([{ ...deflated('secret.csv', csv(5)), flags: 0x801 }]))).toMatch(/member "secret\.csv" is encrypted/);
  });

  it('strong encryption', async () => {
    expect(await rejection(craftZip([{ ...deflated('secret.csv', csv(5)), flags: 0x841 }]))).toMatch(/cannot be read: strong encryption is not supported/);
  });

  it.each([
    [93, /zstd/],
    [12, /bzip2/],
    [1, /method 1\b/],
  ])('a member compressed with method %i', async (method, name) => {
    const reason = await rejection(craftZip([{ ...stored('x.csv', 'a\n'), method }]));
    expect(reason).toMatch(/member "x\.csv" uses an unsupported compression/);
    expect(reason).toMatch(name);
    expect(reason).toMatch(/only stored and deflate/);
  });

  it('a name that appears twice', async () => {
    expect(await rejection(craftZip([stored('a.csv', '1\n'), stored('b.csv', '2\n'), stored('a.csv', '3\n')]))).toMatch(/member "a\.csv": a duplicate name/);
  });

  it('two spellings of the same unicode name (NFC and NFD)', async () => {
    expect(await rejection(craftZip([stored('\u00e9t\u00e9.csv', '1\n'), stored('e\u0301te\u0301.csv', '2\n')]))).toMatch(/a duplicate name/);
  });

  it('an empty archive, and one of directories only', async () => {
    expect(await rejection(craftZip([]))).toBe('no files in the archive');
    expect(await rejection(craftZip([stored('a/', ''), stored('a/b/', '')]))).toBe('no files in the archive');
  });

  it('a directory entry that holds data', async () => {
    expect(await rejection(craftZip([stored('a/', 'hidden'), stored('x.csv', '1\n')]))).toMatch(/directory "a\/" holds data/);
  });

  it('is a FeedRejection with a code of its own', async () => {
    const err = new ArchiveRejection('why');
    expect(err).toBeInstanceOf(FeedRejection);
    expect(err.name).toBe('ArchiveRejection');
    expect(err.code).toBe('ARCHIVE_REJECTED');
    expect(err.code).not.toBe(new FeedRejection('x').code);
  });
});

describe('a good archive', () => {
  const contents: Record<string, string> = { 'a.csv': csv(3), 'dir/b.csv': csv(1000), 'c.csv': '' };

  it('hands over every member: its name, size, packed size and CRC, its exact bytes in a file named by its index', async () => {
    const zip = zipSync({
      'a.csv': Buffer.from(contents['a.csv'] as string),
      'dir/b.csv': [Buffer.from(contents['dir/b.csv'] as string), { level: 9 }],
      'c.csv': [Buffer.from(''), { level: 0 }],
    });
    const { run, outDir } = await unpackBytes(zip);
    const { members } = await run;
    expect(members.map((m) => m.name)).toEqual(['a.csv', 'dir/b.csv', 'c.csv']);
    for (const [index, member] of members.entries()) {
      const text = contents[member.name] as string;
      expect(member.path).toBe(join(outDir, String(index)));
      expect(basename(member.path)).toBe(String(index));
      expect(await readFile(member.path, 'utf8')).toBe(text);
      expect(member.size).toBe(Buffer.byteLength(text));
      expect(member.crc32).toBe(crc32(text));
    }
    const b = members[1]!;
    expect(b.packedSize).toBeGreaterThan(0);
    expect(b.packedSize).toBeLessThan(b.size); // deflated
    expect(members[2]).toMatchObject({ size: 0, crc32: 0 });
    expect((await readdir(outDir)).sort()).toEqual(['0', '1', '2']);
  });

  it('skips directory entries and keeps stored members as they are', async () => {
    const zip = craftZip([stored('dir/', ''), stored('dir/x.csv', 'id\n1\n'), stored('y.csv', 'id\n2\n')]);
    const { members } = await (await unpackBytes(zip)).run;
    expect(members.map((m) => [m.name, basename(m.path), m.size, m.packedSize])).toEqual([
      ['dir/x.csv', '0', 5, 5],
      ['y.csv', '1', 5, 5],
    ]);
  });

  it('keeps unicode names, decoded as UTF-8 by the flag, or as CP437 without it', async () => {
    const zip = craftZip([
      stored('données/été.csv', 'a\n'),
      stored('日本語.csv', 'b\n'),
      { ...stored(Buffer.from('caf\x82.csv', 'latin1'), 'c\n'), flags: 0 }, // 0x82 is é in CP437
    ]);
    const { members } = await (await unpackBytes(zip)).run;
    expect(members.map((m) => m.name)).toEqual(['données/été.csv', '日本語.csv', 'café.csv']);
  });

  it('takes a ratio up to the limit', async () => {
    const size = RATIO_FLOOR_BYTES + 100_000;
    const zeros = Buffer.alloc(size);
    const zip = craftZip([deflated('zeros.csv', zeros)]);
    const packed = deflateRawSync(zeros).length;
    await expect((await unpackBytes(zip, { maxRatio: Math.ceil(size / packed) })).run).resolves.toMatchObject({ members: [{ size }] });
    expect(await rejection(zip, { maxRatio: Math.floor(size / packed) - 1 })).toMatch(/more than the ratio/);
  });

  it('never judges a small member by its ratio: a file of repeated rows compresses far', async () => {
    const rows = Buffer.from('2026-12-07;ON01;0,00\n'.repeat(500_000));
    const zip = craftZip([deflated('rows.csv', rows)]);
    expect(rows.length / deflateRawSync(rows).length).toBeGreaterThan(200);
    await expect((await unpackBytes(zip)).run).resolves.toMatchObject({ members: [{ size: rows.length }] });
  });
});

describe('the defaults', () => {
  it('are the schema defaults', async () => {
    const schema = JSON.parse(await readFile(join(import.meta.dirname, '..', '..', 'shared', 'core', 'config', 'pipeline.schema.json'), 'utf8'));
    const props = schema.definitions?.archive?.properties ?? schema.$defs?.archive?.properties;
    expect(ARCHIVE_DEFAULTS).toEqual({
      maxMembers: props.maxMembers.default,
      maxUnpackedBytes: props.maxUnpackedBytes.default,
      maxRatio: props.maxRatio.default,
    });
  });
});
