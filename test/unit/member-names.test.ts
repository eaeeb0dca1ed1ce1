import { describe, expect, it } from 'vitest';
import { isDirectoryEntry, MAX_MEMBER_NAME_BYTES, memberKeyPath } from '../../shared/stages/unpack';

const problem = (name: string) => {
  const result = memberKeyPath(name);
  return 'problem' in result ? result.problem : null;
};

describe('a zip member name as part of an S3 key', () => {
  it.each([
    ['../x.csv', /"\.\." segment/],
    ['a/../../x.csv', /"\.\." segment/],
    ['a/..', /"\.\." segment/],
    ['/etc/x', /absolute path/],
    ['\\x', /absolute path/],
    ['C:\\x', /absolute path/],
    ['C:/x', /absolute path/],
    ['c:x.csv', /absolute path/],
    ['a\\..\\b', /backslash/],
    ['dir\\x.csv', /backslash/],
    ['', /empty/],
    ['a\u0000.csv', /NUL or control/],
    ['a\n.csv', /NUL or control/],
    ['a\u007f.csv', /NUL or control/],
    ['a\u0085.csv', /NUL or control/],
    ['./x.csv', /"\." segment/],
    ['a/./x.csv', /"\." segment/],
    ['a//x.csv', /empty segment/],
    ['a/', /empty segment/],
    ['x!/y.csv', /separates an archive from its members/],
    ['a*.csv', /character S3 keys handle badly/],
    ['a%2F.csv', /character S3 keys handle badly/],
    ['a#b.csv', /character S3 keys handle badly/],
    ['a{b}.csv', /character S3 keys handle badly/],
    ['ab:c.csv', /character S3 keys handle badly/],
    ['a\u00a0b.csv', /character S3 keys handle badly/], // no-break space: looks like a space
    ['gnp\u202Ecsv.exe', /character S3 keys handle badly/], // right-to-left override: a disguised name
    ['a\u200Bb.csv', /character S3 keys handle badly/], // zero-width space
  ])('rejects %j', (name, reason) => {
    const found = problem(name);
    expect(found).toMatch(reason);
    expect(found).toContain(JSON.stringify(name)); // the reason names the member
  });

  it('rejects a name longer than 512 bytes, counting UTF-8 bytes, not characters', () => {
    expect(problem('a'.repeat(MAX_MEMBER_NAME_BYTES))).toBeNull();
    expect(problem('a'.repeat(MAX_MEMBER_NAME_BYTES + 1))).toMatch(/longer than 512 bytes/);
    expect(problem('é'.repeat(257))).toMatch(/longer than 512 bytes/); // 257 characters, 514 bytes
  });

  it.each([
    'orders.csv',
    'partner/2024-01-31/orders (1).csv',
    'données/été.csv',
    '日本語/データ.csv',
    'Ελληνικά.jsonl',
    'cafe\u0301.csv', // e + combining acute accent
    "a-b_c.d(e)!f'g+h,i=j@k&l.csv",
    'x!',
    '.hidden',
    '..x',
  ])('accepts %j as it is', (name) => {
    expect(memberKeyPath(name)).toEqual({ path: name });
  });

  it('tells a directory entry by its trailing slash', () => {
    expect(isDirectoryEntry('a/b/')).toBe(true);
    expect(isDirectoryEntry('a/b')).toBe(false);
  });
});
