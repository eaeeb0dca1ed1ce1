import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The documentation refers to nothing outside the repository, and every relative link resolves: its
 * file exists, and its anchor (`#…`) names a heading or an `<a id>` of the Markdown file it points
 * at. Anchors follow GitHub's rule: the heading's text, lowercased, without punctuation other than
 * `-` and `_`, spaces turned into `-`, and `-1`, `-2`… for repeated headings.
 */

const ROOT = resolve(import.meta.dirname, '..', '..');
/** Markdown at the top of the repository, and everywhere under these folders. */
const FOLDERS = ['docs', 'ops', 'spark', 'statemachines', 'examples'];
const SKIPPED_DIRS = new Set(['node_modules', 'dist', '__pycache__']);
const README_MAX_BYTES = 12 * 1024;

function markdownUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || SKIPPED_DIRS.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...markdownUnder(path));
    else if (entry.isFile() && entry.name.endsWith('.md')) files.push(path);
  }
  return files;
}

function markdownFiles(): string[] {
  const top = readdirSync(ROOT, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.md'))
    .map((e) => join(ROOT, e.name));
  return [...top, ...FOLDERS.flatMap((folder) => markdownUnder(join(ROOT, folder)))].sort();
}

/** The file's lines outside fenced code blocks (``` or ~~~); lines inside become empty, so numbers stay. */
function proseLines(text: string): string[] {
  let fence: string | undefined;
  return text.split('\n').map((line) => {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === undefined) {
      if (marker) {
        fence = marker;
        return '';
      }
      return line;
    }
    if (marker && marker[0] === fence[0] && marker.length >= fence.length && line.trim() === marker) fence = undefined;
    return '';
  });
}

/** GitHub's anchor for a heading's text. */
function slug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links and images: their text
    .replace(/<[^>]+>/g, '') // HTML tags
    .replace(/[`*]/g, ''); // code spans and emphasis
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor a Markdown file offers: its headings' slugs (repeated ones numbered) and `<a id|name>`. */
function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(text)) {
    const heading = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line);
    if (heading) {
      const base = slug(heading[1] ?? '');
      const count = seen.get(base) ?? 0;
      seen.set(base, count + 1);
      anchors.add(count === 0 ? base : `${base}-${count}`);
    }
    for (const html of line.matchAll(/<a\s+[^>]*(?:id|name)\s*=\s*"([^"]+)"/gi)) anchors.add(html[1] ?? '');
  }
  return anchors;
}

interface Link {
  line: number;
  target: string;
}

/** Inline links and images `[x](target "title")` and reference definitions `[x]: target`, outside code. */
function linksOf(text: string): Link[] {
  const links: Link[] = [];
  proseLines(text).forEach((raw, index) => {
    const line = raw.replace(/`+[^`]*`+/g, (code) => ' '.repeat(code.length)); // code spans hold no links
    for (const m of line.matchAll(/\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)) links.push({ line: index + 1, target: m[1] ?? '' });
    const definition = /^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/.exec(line);
    if (definition) links.push({ line: index + 1, target: definition[1] ?? '' });
  });
  return links;
}

const EXTERNAL = /^[a-z][a-z0-9+.-]*:|^\/\//i;

function problemsIn(file: string, anchorCache: Map<string, Set<string>>): string[] {
  const text = readFileSync(file, 'utf8');
  const where = relative(ROOT, file);
  const problems: string[] = [];
  const anchorsOfFile = (path: string) => {
    let anchors = anchorCache.get(path);
    if (!anchors) {
      anchors = anchorsOf(readFileSync(path, 'utf8'));
      anchorCache.set(path, anchors);
    }
    return anchors;
  };
  for (const { line, target } of linksOf(text)) {
    if (target === '' || EXTERNAL.test(target)) continue;
    const hash = target.indexOf('#');
    const pathPart = hash === -1 ? target : target.slice(0, hash);
    const anchor = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
    const path = decodeURIComponent(pathPart);
    const resolved = path === '' ? file : path.startsWith('/') ? join(ROOT, path) : resolve(dirname(file), path);
    const inside = relative(ROOT, resolved);
    if (inside === '..' || inside.startsWith(`..${sep}`)) {
      problems.push(`${where}:${line}: ${target} points outside the repository`);
      continue;
    }
    if (!existsSync(resolved)) {
      problems.push(`${where}:${line}: ${target}: no such file (${inside})`);
      continue;
    }
    if (anchor === undefined || anchor === '') continue;
    if (!resolved.endsWith('.md') || !statSync(resolved).isFile()) continue; // anchors into code (#L10) are GitHub's
    if (!anchorsOfFile(resolved).has(anchor)) problems.push(`${where}:${line}: ${target}: no heading or anchor "${anchor}" in ${inside}`);
  }
  return problems;
}

describe('documentation links', () => {
  it('slugs headings as GitHub does', () => {
    expect(slug('The local warehouse: the Redshift Data API on PGlite')).toBe('the-local-warehouse-the-redshift-data-api-on-pglite');
    expect(slug('1–2. Conversion overhead against the DuckDB floor')).toBe('12-conversion-overhead-against-the-duckdb-floor');
    expect(slug('The samples (`examples/retail/`)')).toBe('the-samples-examplesretail');
    expect(slug('Engine helpers (`landfall_jobs.tables`)')).toBe('engine-helpers-landfall_jobstables');
    expect(slug('What a stage gets: `StageContext`')).toBe('what-a-stage-gets-stagecontext');
    expect(anchorsOf('# A\n## B\n```\n# not a heading\n```\n## B\n<a id="x"></a>text\n')).toEqual(new Set(['a', 'b', 'b-1', 'x']));
  });

  it('finds the Markdown it checks', () => {
    const files = markdownFiles().map((f) => relative(ROOT, f));
    expect(files).toContain('README.md');
    expect(files).toContain(join('docs', 'architecture.md'));
  });

  it('resolve inside the repository, to files and headings that exist', () => {
    const cache = new Map<string, Set<string>>();
    const problems = markdownFiles().flatMap((file) => problemsIn(file, cache));
    expect(problems).toEqual([]);
  });

  it('keep the README short: at most 12 KiB', () => {
    expect(statSync(join(ROOT, 'README.md')).size).toBeLessThanOrEqual(README_MAX_BYTES);
  });
});
