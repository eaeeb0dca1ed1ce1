import { describe, expect, it } from 'vitest';
import { retailConfig } from '../../examples/retail/config';
const pipelineConfig = retailConfig();
import type { DatasetConfig } from '../../shared/core/config/types';
import { MAX_LINE_BYTES } from '../../shared/core/datasets/line-limits';
import { WAREHOUSE_VARCHAR_BYTES, truncateUtf8 } from '../../shared/core/feeds/value-limits';
import { splitFields } from '../../shared/stages/validate/delimited';
import { REJECTS_HEADER, validateFile, type LineSink } from '../../shared/stages/validate/validate-file';

const pos = pipelineConfig.datasets.find((d) => d.name === 'pos')!;
const master = pipelineConfig.datasets.find((d) => d.name === 'item_master')!;
const HEADER = 'store_id\titem_id\ttransaction_date\ttransaction_code\tamount';
const keyFields = { province: 'ON', store: 'ON01', date: '2026-11-23', time: '14:00:00' };

class MemorySink implements LineSink {
  lines: string[] = [];
  write(line: string) {
    this.lines.push(line);
  }
}

/** Feeds the bytes in small chunks, so multi-byte characters and lines straddle chunk borders. */
async function* chunked(bytes: Uint8Array, size = 7): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function validate(content: string | Uint8Array, dataset: DatasetConfig = pos, chunkSize = 7) {
  const good = new MemorySink();
  const rejects = new MemorySink();
  const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
  const outcome = await validateFile(chunked(bytes, chunkSize), dataset, dataset === pos ? keyFields : { date: '2026-11-23' }, { good, rejects });
  return { outcome, good: good.lines, rejects: rejects.lines.slice(1) };
}

describe('validating a POS file', () => {
  it('passes good rows through as CSV with a header', async () => {
    const { outcome, good, rejects } = await validate(`${HEADER}\nON01\tI0001\t2026-11-23\t4\t12.50\nON01\tI0002\t2026-11-23\t5\t1\n`);
    expect(outcome).toEqual({ state: 'VALIDATED', rows: { in: 2, out: 2, rejected: 0, junk: 0 } });
    expect(good).toEqual(['store_id,item_id,transaction_date,transaction_code,amount', 'ON01,I0001,2026-11-23,4,12.50', 'ON01,I0002,2026-11-23,5,1']);
    expect(rejects).toEqual([]);
  });

  it('tolerates a BOM and CRLF line ends, and a last line without newline', async () => {
    const { outcome, good } = await validate(`\uFEFF${HEADER}\r\nON01\tI0001\t2026-11-23\t4\t12.50\r\nON01\tI0003\t2026-11-23\t6\t0.99`);
    expect(outcome.state).toBe('VALIDATED');
    expect(good.slice(1)).toEqual(['ON01,I0001,2026-11-23,4,12.50', 'ON01,I0003,2026-11-23,6,0.99']);
  });

  it('drops and counts junk lines anywhere, without counting them as rows', async () => {
    const { outcome } = await validate(`---- export ----\n${HEADER}\nON01\tI0001\t2026-11-23\t4\t1.00\n--------\nON01\tI0001\t2026-11-23\t5\t0.13\n`);
    expect(outcome).toEqual({ state: 'VALIDATED', rows: { in: 2, out: 2, rejected: 0, junk: 2 } });
  });

  it('reports each bad row with its line number and reason', async () => {
    const lines = [
      HEADER,
      'ON01\tI0001\t2026-11-23\t4\t1.00',
      'ON01\tI0001\t2026-11-23\t4\t12.345',
      'ON01\tI0001\t2026-11-23\t99\t1.00',
      'ON01\tI0001\t2026-11-23\t4',
      'ON02\tI0001\t2026-11-23\t4\t1.00',
      'ON01\tI0001\t2026-02-30\t4\t1.00',
      'ON01\t\t2026-11-23\t4\t1.00',
      ...Array.from({ length: 10 }, () => 'ON01\tI0002\t2026-11-23\t6\t2.00'),
    ];
    const { outcome, rejects } = await validate(`${lines.join('\n')}\n`);
    expect(outcome).toEqual({ state: 'VALIDATED', rows: { in: 17, out: 11, rejected: 6, junk: 0 } });
    expect(rejects.map((r) => r.split(',')[0])).toEqual(['3', '4', '5', '6', '7', '8']);
    expect(rejects[0]).toContain('amount: ""12.345"" is not a decimal with at most 2 places');
    expect(rejects[1]).toContain('transaction_code: ""99"" is not a known value');
    expect(rejects[2]).toContain('expected 5 columns, found 4');
    expect(rejects[3]).toContain(`does not match the file's store`);
    expect(rejects[4]).toContain('transaction_date: ""2026-02-30"" is not a date');
    expect(rejects[5]).toContain('item_id: empty value');
  });

  it('rejects a file that is mostly bad', async () => {
    const bad = Array.from({ length: 3 }, () => 'ON01\tI0001\t2026-11-23\t4\tn/a');
    const { outcome } = await validate(`${HEADER}\nON01\tI0001\t2026-11-23\t4\t1.00\n${bad.join('\n')}\n`);
    expect(outcome).toMatchObject({ state: 'REJECTED', reason: 'mostly bad: 3 of 4 rows rejected (limit 50%)' });
  });

  it.each([
    ['an empty file', '', 'empty file (0 bytes)'],
    ['a file of blank lines', '\n\n  \n', 'missing header'],
    ['a file without header', 'ON01\tI0001\t2026-11-23\t4\t1.00\n', 'missing or wrong header on line 1'],
    ['a CSV where TSV is expected', 'store_id,item_id,transaction_date,transaction_code,amount\n', 'missing or wrong header'],
  ])('rejects %s', async (_name, content, reason) => {
    const { outcome } = await validate(content);
    expect(outcome.state).toBe('REJECTED');
    expect((outcome as { reason: string }).reason).toContain(reason);
  });

  it('rejects bytes that are not UTF-8 text, and text with NUL bytes', async () => {
    const gzip = Uint8Array.from([0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe, 0x00, 0x41]);
    expect((await validate(gzip)).outcome).toMatchObject({ state: 'REJECTED', reason: expect.stringContaining('not UTF-8 text') });
    const nul = new TextEncoder().encode(`${HEADER}\nON01\u0000\tI0001\t2026-11-23\t4\t1.00\n`);
    expect((await validate(nul)).outcome).toMatchObject({ state: 'REJECTED', reason: expect.stringContaining('NUL byte') });
  });

  it('accepts a header-only file as VALIDATED with no rows', async () => {
    expect((await validate(`${HEADER}\n`)).outcome).toEqual({ state: 'VALIDATED', rows: { in: 0, out: 0, rejected: 0, junk: 0 } });
  });

  it('keeps multi-byte characters split across chunks intact', async () => {
    const { outcome, good } = await validate(`${HEADER}\nON01\tcafé-店-🍔\t2026-11-23\t4\t1.00\n`);
    expect(outcome.state).toBe('VALIDATED');
    expect(good[1]).toBe('ON01,café-店-🍔,2026-11-23,4,1.00');
  });

  it('writes the rejects report header first', async () => {
    const good = new MemorySink();
    const rejects = new MemorySink();
    await validateFile(chunked(new TextEncoder().encode(`${HEADER}\n`)), pos, keyFields, { good, rejects });
    expect(rejects.lines[0]).toBe(REJECTS_HEADER);
  });
});

describe('line limits, in UTF-8 bytes', () => {
  const row = (item: string, date = '2026-11-23') => `ON01\t${item}\t${date}\t4\t1.00`;
  /** A POS row of exactly `bytes` UTF-8 bytes: its item id is `char` repeated, padded with `x`. */
  const rowOfBytes = (bytes: number, char: string) => {
    const room = bytes - Buffer.byteLength(row(''));
    const n = Math.floor(room / Buffer.byteLength(char));
    return row(char.repeat(n) + 'x'.repeat(room - n * Buffer.byteLength(char)));
  };
  const fields = (reject: string) => splitFields(reject, ',') as string[];
  const tooLong = (line: string) => `line longer than ${MAX_LINE_BYTES} bytes (${Buffer.byteLength(line)} bytes)`;

  it('rejects a row longer than the limit in bytes (fewer characters than the limit), not the file', async () => {
    const long = row('€'.repeat(900_000)); // 900,000 characters, 2.7 MB of UTF-8
    const lines = [HEADER, row('I0001'), long, row('I0002'), '--------', row('I0003'), row('I0004').replace('\t4\t', '\t99\t')];
    const { outcome, good, rejects } = await validate(`${lines.join('\n')}\n`, pos, 4096);
    expect(outcome).toEqual({ state: 'VALIDATED', rows: { in: 5, out: 3, rejected: 2, junk: 1 } });
    expect(good.slice(1)).toEqual(['I0001', 'I0002', 'I0003'].map((i) => `ON01,${i},2026-11-23,4,1.00`));
    expect(rejects.map(fields).map(([n, reason]) => [n, reason])).toEqual([
      ['3', tooLong(long)],
      ['7', 'transaction_code: "99" is not a known value'],
    ]);
    // the report keeps the start of the line, as for any other rejected row
    expect(fields(rejects[0]!)[2]).toBe(long.slice(0, 1000));
  });

  it('counts every byte up to the limit exactly; the CR of a CRLF line end is not part of the line', async () => {
    // (a value this long is over a warehouse VARCHAR's 65,535 bytes: this item id is cut to fit, so the line limit is what is tested)
    const truncating: DatasetConfig = { ...pos, columns: pos.columns.map((c) => (c.name === 'item_id' ? { ...c, onTooLong: 'truncate' as const } : c)) };
    const cut = (line: string) => {
      const [store, item, ...rest] = line.split('\t');
      return [store, truncateUtf8(item!, WAREHOUSE_VARCHAR_BYTES), ...rest].join(',');
    };
    const accepted = [rowOfBytes(MAX_LINE_BYTES, 'x'), rowOfBytes(MAX_LINE_BYTES, '€'), rowOfBytes(MAX_LINE_BYTES, '😀')];
    const refused = [rowOfBytes(MAX_LINE_BYTES + 1, 'x'), rowOfBytes(MAX_LINE_BYTES + 1, 'é')];
    for (const line of [...accepted, ...refused]) expect(Buffer.byteLength(line) - MAX_LINE_BYTES).toBeLessThanOrEqual(1);
    const lines = [HEADER, ...accepted, ...refused, row('I0001')];
    const bytes = new TextEncoder().encode(`${lines.join('\r\n')}\r\n`);
    // chunks of 4 KiB, and chunks that end right after each CR (the line end still unknown)
    async function* afterEachCr() {
      let from = 0;
      for (let i = 0; i < bytes.length; i += 1) {
        if (bytes[i] === 13) {
          yield bytes.subarray(from, i + 1);
          from = i + 1;
        }
      }
      yield bytes.subarray(from);
    }
    for (const chunks of [chunked(bytes, 4096), afterEachCr()]) {
      const good = new MemorySink();
      const rejects = new MemorySink();
      const outcome = await validateFile(chunks, truncating, keyFields, { good, rejects });
      expect(outcome).toEqual({ state: 'VALIDATED', rows: { in: 6, out: 4, rejected: 2, junk: 0, truncated: 3 } });
      expect(good.lines.slice(1)).toEqual([...accepted, row('I0001')].map(cut));
      expect(
        rejects.lines
          .slice(1)
          .map(fields)
          .map(([n, reason]) => [n, reason]),
      ).toEqual([
        ['5', tooLong(refused[0]!)],
        ['6', tooLong(refused[1]!)],
      ]);
    }
  });

  it('streams past a line far over the limit (64 MiB in 64 KiB chunks) and reports its size', async () => {
    const chunk = new Uint8Array(1 << 16).fill(0x61);
    const chunks = 1024; // a 64 MiB line
    const encode = (text: string) => new TextEncoder().encode(text);
    async function* file() {
      yield encode(`${HEADER}\n${row('I0001')}\nON01\t`);
      for (let i = 0; i < chunks; i += 1) yield chunk;
      yield encode(`\t2026-11-23\t4\t1.00\n${row('I0002')}\n${row('I0003')}`);
    }
    const good = new MemorySink();
    const rejects = new MemorySink();
    const outcome = await validateFile(file(), pos, keyFields, { good, rejects });
    expect(outcome).toEqual({ state: 'VALIDATED', rows: { in: 4, out: 3, rejected: 1, junk: 0 } });
    const size = Buffer.byteLength(row('')) + chunks * chunk.length;
    expect(rejects.lines.slice(1).map(fields)).toEqual([['3', `line longer than ${MAX_LINE_BYTES} bytes (${size} bytes)`, `ON01\t${'a'.repeat(995)}`]]);
    expect(good.lines.slice(1)).toEqual(['I0001', 'I0002', 'I0003'].map((i) => `ON01,${i},2026-11-23,4,1.00`));
  });

  it('treats a long last line without newline as a row, and a long first line as a wrong header', async () => {
    const long = row('€'.repeat(400_000));
    const last = await validate(`${HEADER}\n${row('I0001')}\n${long}`, pos, 4096);
    expect(last.outcome).toEqual({ state: 'VALIDATED', rows: { in: 2, out: 1, rejected: 1, junk: 0 } });
    expect(last.rejects.map(fields).map(([n, reason]) => [n, reason])).toEqual([['3', tooLong(long)]]);
    const first = await validate(`${long}\n${HEADER}\n`, pos, 4096);
    expect(first.outcome).toMatchObject({ state: 'REJECTED', reason: expect.stringMatching(/^missing or wrong header on line 1: /) });
  });
});

describe("rows against the file's key fields (equalsKeyField)", () => {
  const fields = (reject: string) => splitFields(reject, ',') as string[];

  it("rejects a POS row not dated the file's date, naming that date; the other rows stay", async () => {
    const row = (item: string, date: string) => `ON01\t${item}\t${date}\t4\t1.00`;
    const lines = [
      HEADER,
      row('I0001', '2026-11-23'),
      row('I0002', '0000-02-29'),
      row('I0003', '9999-12-31'),
      row('I0004', '2026-11-24'),
      row('I0005', '2026-11-23'),
      row('I0006', '2026-11-23'),
      row('I0007', '2026-11-23'),
    ];
    const { outcome, good, rejects } = await validate(`${lines.join('\n')}\n`);
    expect(outcome).toEqual({ state: 'VALIDATED', rows: { in: 7, out: 4, rejected: 3, junk: 0 } });
    expect(good.slice(1).map((l) => l.split(',')[1])).toEqual(['I0001', 'I0005', 'I0006', 'I0007']);
    expect(rejects.map(fields).map(([n, reason]) => [n, reason])).toEqual(
      [
        ['3', '0000-02-29'],
        ['4', '9999-12-31'],
        ['5', '2026-11-24'],
      ].map(([n, date]) => [n, `transaction_date: "${date}" does not match the file's date "2026-11-23"`]),
    );
  });

  it("compares a timestamp's UTC date with a date key field", async () => {
    const events: DatasetConfig = {
      name: 'events',
      keyPattern: 'clickstream/events/{date:YYYYMMDD}/{part}.jsonl',
      format: { kind: 'jsonl' },
      columns: [
        { name: 'event_id', kind: 'string' },
        { name: 'event_ts', kind: 'timestamp', equalsKeyField: 'date' },
      ],
      partitionBy: [],
      dateField: 'date',
      maxBadRowRatio: 0.5,
    };
    const stamps = [
      '2026-11-23T00:00:00Z',
      '2026-11-23T23:59:59.999999Z',
      '2026-11-24T00:00:00Z',
      '2026-11-22T23:59:59Z',
      '2026-11-23T12:00:00.5Z',
      '2026-11-23',
    ];
    const lines = stamps.map((ts, i) => JSON.stringify({ event_id: `e${i + 1}`, event_ts: ts }));
    const { outcome, good, rejects } = await validate(`${lines.join('\n')}\n`, events);
    expect(outcome).toEqual({ state: 'VALIDATED', rows: { in: 6, out: 3, rejected: 3, junk: 0 } });
    expect(good.slice(1).map((l) => l.split(',')[0])).toEqual(['e1', 'e2', 'e5']);
    expect(rejects.map(fields).map(([n, reason]) => [n, reason])).toEqual([
      ['3', `event_ts: "2026-11-24T00:00:00Z" is not on the file's date "2026-11-23" (UTC)`],
      ['4', `event_ts: "2026-11-22T23:59:59Z" is not on the file's date "2026-11-23" (UTC)`],
      ['6', 'event_ts: "2026-11-23" is not a UTC timestamp (YYYY-MM-DDTHH:MM:SS[.sss]Z)'],
    ]);
  });
});

describe('validating the item master (CSV)', () => {
  it('honours quoted fields and rejects broken quoting', async () => {
    const content =
      'item_id,item_name,category,unit_price\nI0001,"Classic Burgers, large",Burgers,9.99\nI0002,"unterminated,Sides,1.00\nI0003,Fries,Sides,2.50\n';
    const { outcome, good, rejects } = await validate(content, master);
    expect(outcome).toEqual({ state: 'VALIDATED', rows: { in: 3, out: 2, rejected: 1, junk: 0 } });
    expect(good[1]).toBe('I0001,"Classic Burgers, large",Burgers,9.99');
    expect(rejects[0]).toMatch(/^3,unterminated quoted field,/);
  });
});

describe('splitting CSV fields', () => {
  it.each([
    ['a,b,c', ['a', 'b', 'c']],
    ['"a,1","b""q",c', ['a,1', 'b"q', 'c']],
    ['a,,', ['a', '', '']],
    ['"",x', ['', 'x']],
  ])('splits %s', (line, fields) => {
    expect(splitFields(line, ',')).toEqual(fields);
  });

  it.each([
    ['"a"b,c', 'text after a closing quote'],
    ['a"b,c', 'quote inside an unquoted field'],
  ])('refuses %s', (line, error) => {
    expect(splitFields(line, ',')).toEqual({ error });
  });
});

describe('validating JSON lines', () => {
  const events = {
    name: 'events',
    keyPattern: 'clickstream/events/{date:YYYYMMDD}/{part}.jsonl',
    format: { kind: 'jsonl' as const },
    columns: [
      { name: 'event_id', kind: 'string' as const },
      { name: 'event_type', kind: 'string' as const, allowed: ['view', 'purchase'] },
      { name: 'product_id', kind: 'string' as const, nullable: true },
      { name: 'event_ts', kind: 'timestamp' as const },
      { name: 'quantity', kind: 'integer' as const, nullable: true },
    ],
    partitionBy: [],
    dateField: 'date',
    maxBadRowRatio: 0.5,
  };

  it('turns objects into CSV rows by column, allowing missing nullable fields and ignoring extra ones', async () => {
    const lines = [
      '{"event_id":"e1","event_type":"view","product_id":"P1","event_ts":"2026-11-23T10:00:00.000Z","extra":{"a":1}}',
      '{"event_id":"e2","event_type":"purchase","event_ts":"2026-11-23T10:05:00Z","quantity":3}',
      '{"event_id":"e3, \\"quoted\\"","event_type":"view","product_id":null,"event_ts":"2026-11-23T23:59:59.123456Z"}',
    ];
    const { outcome, good } = await validate(`${lines.join('\n')}\n`, events);
    expect(outcome).toEqual({ state: 'VALIDATED', rows: { in: 3, out: 3, rejected: 0, junk: 0 } });
    expect(good).toEqual([
      'event_id,event_type,product_id,event_ts,quantity',
      'e1,view,P1,2026-11-23T10:00:00.000Z,',
      'e2,purchase,,2026-11-23T10:05:00Z,3',
      '"e3, ""quoted""",view,,2026-11-23T23:59:59.123456Z,',
    ]);
  });

  it('reports malformed records with their line numbers', async () => {
    const lines = [
      '{"event_id":"e1","event_type":"view","event_ts":"2026-11-23T10:00:00Z"}',
      '{"event_id":"e2","event_type":"view",',
      '["e3"]',
      '{"event_type":"view","event_ts":"2026-11-23T10:00:00Z"}',
      '{"event_id":"e5","event_type":"click","event_ts":"2026-11-23T10:00:00Z"}',
      '{"event_id":"e6","event_type":"view","event_ts":"2026-11-23 10:00:00"}',
      '{"event_id":"e7","event_type":"view","event_ts":"2026-11-23T10:00:00Z","quantity":1.5}',
      '{"event_id":{"id":8},"event_type":"view","event_ts":"2026-11-23T10:00:00Z"}',
      ...Array.from({ length: 8 }, (_, i) => `{"event_id":"g${i}","event_type":"view","event_ts":"2026-11-23T11:00:00Z"}`),
    ];
    const { outcome, rejects } = await validate(`${lines.join('\n')}\n`, events);
    expect(outcome).toEqual({ state: 'VALIDATED', rows: { in: 16, out: 9, rejected: 7, junk: 0 } });
    expect(rejects.map((r) => r.split(',')[0])).toEqual(['2', '3', '4', '5', '6', '7', '8']);
    expect(rejects[0]).toContain('not JSON');
    expect(rejects[1]).toContain('not a JSON object');
    expect(rejects[2]).toContain('event_id: empty value');
    expect(rejects[3]).toContain('event_type: ""click"" is not a known value');
    expect(rejects[4]).toContain('is not a UTC timestamp');
    expect(rejects[5]).toContain('quantity: ""1.5"" is not an integer');
    expect(rejects[6]).toContain('event_id: an object is not a column value');
  });
});

describe('decimals and their DECIMAL(18, scale)', () => {
  it('rejects a row whose decimal has more digits before the point than DECIMAL(18, scale) holds', async () => {
    const prices: DatasetConfig = {
      ...master,
      columns: [
        { name: 'item_id', kind: 'string' },
        { name: 'price', kind: 'decimal', scale: 4 },
      ],
    };
    const { outcome, good, rejects } = await validate('item_id,price\nA,99999999999999.9999\nB,999999999999999.9999\nC,-1.5\n', prices);
    expect(outcome).toEqual({ state: 'VALIDATED', rows: { in: 3, out: 2, rejected: 1, junk: 0 } });
    expect(good.slice(1)).toEqual(['A,99999999999999.9999', 'C,-1.5']);
    expect(rejects.map((r) => r.split(',')[0])).toEqual(['3']);
  });
});

describe('canonical text from a decoder', () => {
  const J = '\u0001';
  const bad = (reason: string, text: string) => `\u0002${reason}\u0002${text}`;
  const headerless = { ...master, format: { kind: 'delimited' as const, delimiter: ',', header: false }, maxBadRowRatio: 1 };

  it('counts junk-marked lines as junk, before the header too', async () => {
    const { outcome, good } = await validate(`${J}# exported 2026-11-23\n${HEADER}\n${J}comment\nON01\tI0001\t2026-11-23\t4\t1.00\n`);
    expect(outcome).toEqual({ state: 'VALIDATED', rows: { in: 1, out: 1, rejected: 0, junk: 2 } });
    expect(good.slice(1)).toEqual(['ON01,I0001,2026-11-23,4,1.00']);
  });

  it("reports a bad-marked line with the decoder's reason and text, on its own line number", async () => {
    const { outcome, rejects } = await validate(
      `${HEADER}\nON01\tI0001\t2026-11-23\t4\t1.00\n${bad('amount: "1,5x" is not a number in 1.234,56', 'ON01;I0001;23.11.2026;4;1,5x')}\n${J}\nON01\tI0001\t2026-11-23\t4\t2.00\n`,
    );
    expect(outcome).toEqual({ state: 'VALIDATED', rows: { in: 3, out: 2, rejected: 1, junk: 1 } });
    expect(rejects.map((r) => splitFields(r, ','))).toEqual([['3', 'amount: "1,5x" is not a number in 1.234,56', 'ON01;I0001;23.11.2026;4;1,5x']]);
  });

  it('takes a bad-marked line where the header should be as a wrong header', async () => {
    const { outcome } = await validate(`${J}skipped\n${bad('invalid bytes', 'x')}\n${HEADER}\n`);
    expect(outcome).toMatchObject({ state: 'REJECTED', reason: expect.stringContaining('missing or wrong header on line 2'), rows: { junk: 1 } });
  });

  it('reads a headerless file from line 1, its columns in the declared order', async () => {
    const { outcome, good, rejects } = await validate('I0001,Burger,Burgers,9.99\n\nI0002,Fries,Sides,x\nitem_id,item_name,category,unit_price\n', headerless);
    expect(outcome).toEqual({ state: 'VALIDATED', rows: { in: 3, out: 1, rejected: 2, junk: 0 } });
    expect(good).toEqual(['item_id,item_name,category,unit_price', 'I0001,Burger,Burgers,9.99']);
    // a header line is a row like any other, here a bad one
    expect(rejects.map((r) => r.split(',')[0])).toEqual(['3', '4']);
  });

  it('refuses to read a delimiter the decoder should have made canonical', async () => {
    await expect(validate('a;b\n', { ...master, format: { kind: 'delimited', delimiter: ';' } })).rejects.toThrow(/decoded to canonical CSV first/);
  });
});

describe('JSON lines of the newer kinds', () => {
  const events: DatasetConfig = {
    name: 'events',
    keyPattern: 'events/{date:YYYYMMDD}.jsonl',
    format: { kind: 'jsonl' },
    columns: [
      { name: 'ok', kind: 'boolean' },
      { name: 'x', kind: 'double', nullable: true },
      { name: 'tags', kind: 'list', items: { kind: 'string' }, nullable: true },
      { name: 'user', kind: 'struct', fields: [{ name: 'id', kind: 'integer' }] },
    ],
    partitionBy: [],
    dateField: 'date',
    maxBadRowRatio: 1,
  };

  it('reads JSON booleans for a boolean column, and nested values as canonical JSON', async () => {
    const lines = [
      '{"ok":true,"x":1e-3,"tags":["a","b"],"user":{"id":1,"extra":true}}',
      '{"ok":"false","user":{"id":"2"}}',
      '{"ok":1,"user":{"id":3}}',
      '{"ok":true,"x":true,"user":{"id":3}}',
      '{"ok":true,"tags":"a","user":{"id":3}}',
      '{"ok":true,"user":{"id":3.5}}',
      '{"ok":true}',
    ];
    const { outcome, good, rejects } = await validate(`${lines.join('\n')}\n`, events);
    expect(outcome).toEqual({ state: 'VALIDATED', rows: { in: 7, out: 2, rejected: 5, junk: 0 } });
    expect(good.slice(1).map((l) => splitFields(l, ','))).toEqual([
      // nested values in their canonical form: declared fields only, leaves as canonical text
      ['true', '0.001', '["a","b"]', '{"id":"1"}'],
      ['false', '', '', '{"id":"2"}'],
    ]);
    expect(rejects.map((r) => (splitFields(r, ',') as string[]).slice(0, 2))).toEqual([
      ['3', 'ok: "1" is not true or false'],
      ['4', 'x: a boolean is not a column value'],
      ['5', 'tags: a string is not a list'],
      ['6', 'user.id: "3.5" is not an integer'],
      ['7', 'user: empty value'],
    ]);
  });
});
