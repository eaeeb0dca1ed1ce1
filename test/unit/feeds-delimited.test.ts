import { describe, expect, it } from 'vitest';
import type { ColumnSpec, DelimitedFormat } from '../../shared/core/config/types';
import { BAD_MARK, badLine, FeedRejection, JUNK_MARK, parseBadLine } from '../../shared/core/feeds/canonical';
import { canonicalCsvLine, type Dialect, splitDialectLine } from '../../shared/core/feeds/csv-line';
import { DelimitedCanonicalizer } from '../../shared/core/feeds/delimited-lines';

/** An independent RFC 4180 reader of one canonical line (the engine's side). */
function readCanonical(line: string): string[] {
  const values: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let value = '';
      i += 1;
      for (;;) {
        if (line[i] === '"' && line[i + 1] === '"') {
          value += '"';
          i += 2;
        } else if (line[i] === '"') {
          i += 1;
          break;
        } else {
          value += line[i];
          i += 1;
        }
      }
      values.push(value);
    } else {
      const end = line.indexOf(',', i);
      values.push(line.slice(i, end < 0 ? line.length : end));
      i = end < 0 ? line.length : end;
    }
    if (i >= line.length) return values;
    i += 1; // the comma
  }
}

describe('canonicalCsvLine', () => {
  it.each<[string[], string]>([
    [['a', 'b', 'c'], 'a,b,c'],
    [['a,b', 'c'], '"a,b",c'],
    [['say "hi"', 'x'], '"say ""hi""",x'],
    [['', '', ''], ',,'],
    [[''], '""'],
    [[' padded', 'x'], '" padded",x'],
    [['\tx'], '"\tx"'],
    [[`${JUNK_MARK}not junk`], `"${JUNK_MARK}not junk"`],
    [[`${BAD_MARK}not bad`], `"${BAD_MARK}not bad"`],
    [['\u00a0'], '"\u00a0"'],
    [['\ufeffx'], '"\ufeffx"'],
    [['Müller; GmbH', '12.5'], 'Müller; GmbH,12.5'],
    [['trailing ', 'ok'], 'trailing ,ok'],
  ])('%j → %s', (values, line) => {
    expect(canonicalCsvLine(values)).toBe(line);
    expect(readCanonical(line)).toEqual(values);
  });

  it('no row is written as a blank or marked line', () => {
    for (const values of [[''], [' '], ['\u3000'], [JUNK_MARK], [BAD_MARK], ['\u2028x']]) {
      const line = canonicalCsvLine(values);
      expect(line.trim()).not.toBe('');
      expect(line.startsWith(JUNK_MARK) || line.startsWith(BAD_MARK)).toBe(false);
    }
  });
});

describe('splitDialectLine', () => {
  const rfc: Dialect = { delimiter: ',', quote: '"', escape: '"' };
  const semicolon: Dialect = { delimiter: ';', quote: '"', escape: '"' };
  const pipe: Dialect = { delimiter: '|', quote: '"', escape: '"' };
  const backslash: Dialect = { delimiter: ',', quote: '"', escape: '\\' };
  const unquoted: Dialect = { delimiter: '\t', quote: '', escape: '' };

  it.each<[string, Dialect, string[]]>([
    ['a,b,c', rfc, ['a', 'b', 'c']],
    ['a;b;c', semicolon, ['a', 'b', 'c']],
    ['a|b|c', pipe, ['a', 'b', 'c']],
    ['"a;b";c', semicolon, ['a;b', 'c']],
    ['x;"Müller; Söhne";"1,5"', semicolon, ['x', 'Müller; Söhne', '1,5']],
    ['"a|b"|"c"', pipe, ['a|b', 'c']],
    ['"say ""hi""",x', rfc, ['say "hi"', 'x']],
    ['"say \\"hi\\"",x', backslash, ['say "hi"', 'x']],
    ['"a\\\\",b', backslash, ['a\\', 'b']],
    ['"C:\\temp",b', backslash, ['C:\\temp', 'b']],
    ['\\N,"q"', backslash, ['\\N', 'q']],
    ['a,,c', rfc, ['a', '', 'c']],
    [',,', rfc, ['', '', '']],
    ['a,b,', rfc, ['a', 'b', '']],
    ['"a","b",', rfc, ['a', 'b', '']],
    ['"",""', rfc, ['', '']],
    ['', rfc, ['']],
    ['5" pipe,x', rfc, ['5" pipe', 'x']],
    ['ab"c"d,"e"', rfc, ['ab"c"d', 'e']],
    ['a\t"b"\tc', unquoted, ['a', '"b"', 'c']],
    ['"a,b"', rfc, ['a,b']],
  ])('%j', (line, dialect, values) => {
    expect(splitDialectLine(line, dialect)).toEqual(values);
  });

  it.each<[string, Dialect, string]>([
    ['"abc,d', rfc, 'unterminated quote in field 1'],
    ['a,"b""', rfc, 'unterminated quote in field 2'],
    ['a,"b\\"', backslash, 'unterminated quote in field 2'],
    ['"a"b,c', rfc, 'text after the closing quote of field 1'],
    ['x;"a" ;c', semicolon, 'text after the closing quote of field 2'],
  ])('%j is a problem', (line, dialect, problem) => {
    expect(splitDialectLine(line, dialect)).toEqual({ problem });
  });
});

const col = (name: string, kind: ColumnSpec['kind'] = 'string', extra: Partial<ColumnSpec> = {}): ColumnSpec => ({ name, kind, ...extra });

function run(canonicalizer: DelimitedCanonicalizer, lines: string[]): string[] {
  return lines.map((l) => canonicalizer.line(l));
}

describe('DelimitedCanonicalizer: the partner feed', () => {
  const format: DelimitedFormat = {
    kind: 'delimited',
    delimiter: ';',
    decimalComma: true,
    encoding: 'windows-1252',
    commentPrefix: '#',
  };
  const columns = [col('store'), col('customer'), col('amount', 'decimal', { scale: 2 }), col('order_date', 'date', { format: 'DD.MM.YYYY' })];

  it('reads ; with quotes, decimal comma and DD.MM.YYYY into canonical CSV, one line per line', () => {
    const feed = new DelimitedCanonicalizer({ format, columns, schemaPolicy: 'strict' });
    const lines = [
      '# export of 31.03.2026',
      'store;customer;amount;order_date',
      'S1;"Müller; Söhne";1234,56;31.03.2026',
      'S1;Café "Zur Post";-0,5;29.02.2024',
      '',
      'S2;Bäcker;12.50;01.04.2026',
      'S2;Weiß;7;31.02.2026',
      'S3;Fran\uFFFDois;1,00;01.04.2026',
      'S3;"open;1,00;01.04.2026',
    ];
    const out = run(feed, lines);
    expect(out).toHaveLength(lines.length);
    expect(out).toEqual([
      `${JUNK_MARK}# export of 31.03.2026`,
      'store,customer,amount,order_date',
      'S1,Müller; Söhne,1234.56,2026-03-31',
      'S1,"Café ""Zur Post""",-0.5,2024-02-29',
      '',
      badLine('amount: "12.50" has a "." but the decimal separator is ","', 'S2;Bäcker;12.50;01.04.2026'),
      badLine('order_date: "31.02.2026" is not a date in DD.MM.YYYY', 'S2;Weiß;7;31.02.2026'),
      badLine('bytes not defined in windows-1252', 'S3;Fran\uFFFDois;1,00;01.04.2026'),
      badLine('unterminated quote in field 2', 'S3;"open;1,00;01.04.2026'),
    ]);
    expect(readCanonical(out[2]!)).toEqual(['S1', 'Müller; Söhne', '1234.56', '2026-03-31']);
    expect(parseBadLine(out[6]!)).toEqual({ reason: 'order_date: "31.02.2026" is not a date in DD.MM.YYYY', text: 'S2;Weiß;7;31.02.2026' });
  });

  it('U+FFFD in a UTF-8 feed is a character like any other', () => {
    const feed = new DelimitedCanonicalizer({ format: { ...format, encoding: 'utf-8' }, columns, schemaPolicy: 'strict' });
    expect(run(feed, ['store;customer;amount;order_date', 'S;\uFFFD;1;01.01.2026'])[1]).toBe('S,\uFFFD,1,2026-01-01');
  });
});

describe('DelimitedCanonicalizer: the legacy extract', () => {
  const format: DelimitedFormat = { kind: 'delimited', delimiter: '|', header: false, nullMarkers: ['\\N'], quote: '' };
  const columns = [
    col('id', 'integer'),
    col('name', 'string', { nullable: true }),
    col('born', 'date', { format: 'DD/MM/YYYY', nullable: true }),
    col('active', 'boolean'),
  ];

  it('reads headerless | rows in declared order, \\N as null', () => {
    const feed = new DelimitedCanonicalizer({ format, columns, schemaPolicy: 'strict' });
    const lines = ['1|Ann|29/02/2000|Y', '2|\\N|\\N|n', '3|a,b|01/01/1990|1', '4|x|31/04/1990|Y', '5|too|many|fields|Y', '6|"q"|\\N|0'];
    expect(run(feed, lines)).toEqual([
      '1,Ann,2000-02-29,true',
      '2,,,false',
      '3,"a,b",1990-01-01,true',
      badLine('born: "31/04/1990" is not a date in DD/MM/YYYY', '4|x|31/04/1990|Y'),
      badLine('expected 4 fields, found 5', '5|too|many|fields|Y'),
      '6,"""q""",,false',
    ]);
    expect(feed.extraColumns).toEqual([]);
    expect(feed.missingColumns).toEqual([]);
  });

  it('the first line is a row, not a header', () => {
    const feed = new DelimitedCanonicalizer({ format, columns, schemaPolicy: 'additive' });
    expect(feed.line('id|name|born|active')).toBe(badLine('born: "born" is not a date in DD/MM/YYYY', 'id|name|born|active'));
  });
});

describe('DelimitedCanonicalizer: headers and schema policy', () => {
  const format: DelimitedFormat = { kind: 'delimited', delimiter: ',' };
  const columns = [col('id', 'integer'), col('name'), col('note', 'string', { nullable: true })];

  it('additive: another order is reordered to the declared one', () => {
    const feed = new DelimitedCanonicalizer({ format, columns, schemaPolicy: 'additive' });
    expect(run(feed, ['note,id,name', 'hello,1,Ann', ',2,Bob'])).toEqual(['id,name,note', '1,Ann,hello', '2,Bob,']);
  });

  it('additive: a new column is ignored and reported', () => {
    const feed = new DelimitedCanonicalizer({ format, columns, schemaPolicy: 'additive' });
    expect(run(feed, ['id,channel,name,note,region', '1,web,Ann,hi,EU', '2,web,Bob'])).toEqual([
      'id,name,note',
      '1,Ann,hi',
      badLine('expected 5 fields, found 3', '2,web,Bob'),
    ]);
    expect(feed.extraColumns).toEqual(['channel', 'region']);
    expect(feed.missingColumns).toEqual([]);
  });

  it('additive: a missing nullable column is null', () => {
    const feed = new DelimitedCanonicalizer({ format, columns, schemaPolicy: 'additive' });
    expect(run(feed, ['name,id', 'Ann,1'])).toEqual(['id,name,note', '1,Ann,']);
    expect(feed.missingColumns).toEqual(['note']);
  });

  it('additive: a missing required column rejects the file, naming it and what was found', () => {
    const feed = new DelimitedCanonicalizer({ format, columns, schemaPolicy: 'additive' });
    let error: unknown;
    try {
      feed.line('note,label');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FeedRejection);
    expect((error as FeedRejection).message).toBe('the header lacks the required columns id, name (expected: id, name, note; found: note, label)');
  });

  it('additive: a column named twice rejects the file', () => {
    const feed = new DelimitedCanonicalizer({ format, columns, schemaPolicy: 'additive' });
    expect(() => feed.line('id,name,id')).toThrow(/names the column id twice/);
  });

  it('additive: names match case-sensitively', () => {
    const feed = new DelimitedCanonicalizer({ format, columns, schemaPolicy: 'additive' });
    expect(() => feed.line('ID,name')).toThrow(/required column id /);
  });

  it('strict: the declared header passes; another order passes through as found for the engine to name', () => {
    const ok = new DelimitedCanonicalizer({ format, columns, schemaPolicy: 'strict' });
    expect(run(ok, ['id,name,note', '1,Ann,'])).toEqual(['id,name,note', '1,Ann,']);
    const other = new DelimitedCanonicalizer({ format: { ...format, delimiter: ';' }, columns, schemaPolicy: 'strict' });
    expect(other.line('name;id;note')).toBe('name,id,note');
    expect(other.extraColumns).toEqual([]);
  });

  it('a header that cannot be split rejects the file', () => {
    const feed = new DelimitedCanonicalizer({ format, columns, schemaPolicy: 'strict' });
    expect(() => feed.line('"id,name')).toThrow(FeedRejection);
  });

  it('skipLines, comments and junk lines are junk (before the header and among rows); blank lines stay blank', () => {
    const feed = new DelimitedCanonicalizer({
      format: { ...format, skipLines: 2, commentPrefix: '--', junkLinePrefix: 'TRAILER' },
      columns,
      schemaPolicy: 'strict',
    });
    const lines = ['REPORT', '', '-- made by x', '   ', 'id,name,note', '1,Ann,', '-- mid', 'TRAILER 1 row', '\t'];
    expect(run(feed, lines)).toEqual([
      `${JUNK_MARK}REPORT`,
      JUNK_MARK,
      `${JUNK_MARK}-- made by x`,
      '',
      'id,name,note',
      '1,Ann,',
      `${JUNK_MARK}-- mid`,
      `${JUNK_MARK}TRAILER 1 row`,
      '',
    ]);
  });

  it('tab-delimited files have no quote unless one is declared', () => {
    const feed = new DelimitedCanonicalizer({ format: { kind: 'delimited', delimiter: '\t' }, columns, schemaPolicy: 'strict' });
    expect(run(feed, ['id\tname\tnote', '1\t"Ann"\t'])).toEqual(['id,name,note', '1,"""Ann""",']);
  });

  it('a backslash escape dialect', () => {
    const feed = new DelimitedCanonicalizer({ format: { kind: 'delimited', delimiter: ',', escape: '\\' }, columns, schemaPolicy: 'strict' });
    expect(run(feed, ['id,name,note', '1,"say \\"hi\\"",x'])).toEqual(['id,name,note', '1,"say ""hi""",x']);
  });

  it('a byte order mark before the header is dropped, elsewhere it is text', () => {
    const feed = new DelimitedCanonicalizer({ format, columns, schemaPolicy: 'strict' });
    expect(run(feed, ['\ufeffid,name,note', '1,\ufeffx,'])).toEqual(['id,name,note', '1,"\ufeffx",']);
  });

  it('quoted header names are read as names', () => {
    const feed = new DelimitedCanonicalizer({ format: { ...format, delimiter: ';' }, columns, schemaPolicy: 'additive' });
    expect(run(feed, ['"name";"id"', '"Ann";1'])).toEqual(['id,name,note', '1,Ann,']);
  });

  it('writes one canonical line per input line, whatever the line', () => {
    const feed = new DelimitedCanonicalizer({ format: { ...format, commentPrefix: '#' }, columns, schemaPolicy: 'additive' });
    const lines = ['id,name,note', '1,a,b', '"', '#', '', '2,"x,y"', 'x,y,z', '3,"a""b",', ' , , '];
    const out = run(feed, lines);
    expect(out).toHaveLength(lines.length);
    for (const line of out) expect(line).not.toMatch(/[\r\n]/);
  });
});
