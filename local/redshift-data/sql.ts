/*
 * The SQL text handling of the local Redshift Data API: named parameters (`:name` → `$n`) and the
 * one statement it translates, COPY … FROM 's3://…' FORMAT AS PARQUET [SERIALIZETOJSON]. Everything else goes to
 * PostgreSQL as written.
 */

/** A statement's text with every provided `:name` replaced by `$n`, and the values in `$n` order. */
export interface BoundSql {
  text: string;
  values: string[];
  /** the provided parameter names the text references */
  used: Set<string>;
}

/** A SQL text's pieces: code (where parameters may be), and what is passed through untouched. */
type Piece = { code: true; text: string } | { code: false; text: string };

/**
 * Splits SQL into code and non-code (string literals, quoted identifiers, comments, dollar-quoted
 * bodies), so that a `:name` inside a literal or comment is never taken for a parameter.
 */
function pieces(sql: string): Piece[] {
  const out: Piece[] = [];
  let code = '';
  const flush = () => {
    if (code) out.push({ code: true, text: code });
    code = '';
  };
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    const next = sql[i + 1];
    let end = -1;
    if (c === "'" || c === '"') {
      // '' (or "") inside is an escaped quote
      end = i + 1;
      for (;;) {
        const q = sql.indexOf(c, end);
        if (q < 0) {
          end = sql.length;
          break;
        }
        if (sql[q + 1] === c) {
          end = q + 2;
          continue;
        }
        end = q + 1;
        break;
      }
    } else if (c === '-' && next === '-') {
      const nl = sql.indexOf('\n', i);
      end = nl < 0 ? sql.length : nl;
    } else if (c === '/' && next === '*') {
      const close = sql.indexOf('*/', i + 2);
      end = close < 0 ? sql.length : close + 2;
    } else if (c === '$') {
      const tag = /^\$[A-Za-z_]*\$/.exec(sql.slice(i));
      if (tag && !/[A-Za-z0-9_]/.test(sql[i - 1] ?? '')) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        end = close < 0 ? sql.length : close + tag[0].length;
      }
    }
    if (end < 0) {
      code += c;
      i++;
      continue;
    }
    flush();
    out.push({ code: false, text: sql.slice(i, end) });
    i = end;
  }
  flush();
  return out;
}

const PARAMETER = /(::)|:([A-Za-z0-9_]+)/g;

/** The `:name` references in a SQL text (outside literals and comments; `::` casts are not references). */
export function parameterNames(sql: string): Set<string> {
  const names = new Set<string>();
  for (const p of pieces(sql)) {
    if (!p.code) continue;
    for (const m of p.text.matchAll(PARAMETER)) if (m[2] !== undefined) names.add(m[2]);
  }
  return names;
}

/**
 * Replaces each `:name` of a provided parameter with `$n` (the first name seen is $1, a name seen
 * again reuses its number); a `:name` that was not provided is left as written (PostgreSQL will
 * reject it, as Redshift would).
 */
export function bindParameters(sql: string, parameters: ReadonlyMap<string, string>): BoundSql {
  const numbers = new Map<string, number>();
  const values: string[] = [];
  const used = new Set<string>();
  const text = pieces(sql)
    .map((p) =>
      !p.code
        ? p.text
        : p.text.replace(PARAMETER, (whole, cast: string | undefined, name: string | undefined) => {
            if (cast !== undefined || name === undefined || !parameters.has(name)) return whole;
            used.add(name);
            let n = numbers.get(name);
            if (n === undefined) {
              values.push(parameters.get(name)!);
              n = values.length;
              numbers.set(name, n);
            }
            return `$${n}`;
          }),
    )
    .join('');
  return { text, values, used };
}

/**
 * Redshift functions PostgreSQL parses as its own keywords, renamed (outside literals and comments)
 * to the stand-in's functions of the same meaning: JSON_SERIALIZE(super) → landfall_json_serialize.
 */
export function renameRedshiftFunctions(sql: string): string {
  return pieces(sql)
    .map((p) => (p.code ? p.text.replace(/\bjson_serialize(?=\s*\()/gi, 'landfall_json_serialize') : p.text))
    .join('');
}

/** The SQL without its leading whitespace and comments (to see which command it is). */
export function leadingCode(sql: string): string {
  let rest = sql;
  for (;;) {
    const trimmed = rest.replace(/^\s+/, '');
    if (trimmed.startsWith('--')) {
      const nl = trimmed.indexOf('\n');
      rest = nl < 0 ? '' : trimmed.slice(nl + 1);
    } else if (trimmed.startsWith('/*')) {
      const close = trimmed.indexOf('*/');
      rest = close < 0 ? '' : trimmed.slice(close + 2);
    } else {
      return trimmed;
    }
  }
}

/** Whether the statement is a COPY (the stand-in handles every COPY itself: none reaches PostgreSQL). */
export function isCopy(sql: string): boolean {
  return /^copy\b/i.test(leadingCode(sql));
}

export interface CopyStatement {
  /** the table as written (schema-qualified or not, quoted parts kept), for PostgreSQL */
  table: string;
  /** the column list, as written (quoted names kept), or undefined for all columns */
  columns?: string[];
  bucket: string;
  /** the key or key prefix after s3://bucket/ (may be empty) */
  prefix: string;
  uri: string;
  /** SERIALIZETOJSON: nested Parquet columns (struct, list, map) load as their JSON text (into SUPER or VARCHAR) */
  serializeToJson: boolean;
}

/** A COPY that is not the one supported form; the message says what is. */
export class CopySyntaxError extends Error {}

const IDENTIFIER = '(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)';
const COPY_HEAD = new RegExp(String.raw`^copy\s+(${IDENTIFIER}(?:\s*\.\s*${IDENTIFIER}){0,2})\s*(?:\(([^)]*)\))?\s*from\s+'((?:[^']|'')*)'`, 'i');
const SUPPORTED = "COPY [schema.]table [(column, …)] FROM 's3://bucket/key-or-prefix' IAM_ROLE {'arn' | default} FORMAT [AS] PARQUET [SERIALIZETOJSON]";

/**
 * Parses `COPY [schema.]table [(col, …)] FROM 's3://bucket/key-or-prefix' IAM_ROLE '…' FORMAT AS
 * PARQUET [SERIALIZETOJSON]` (IAM_ROLE default too; the options in any order, each once; keywords in
 * any case; an optional trailing `;`). Anything else that starts with COPY is a CopySyntaxError: the stand-in does not
 * pass COPY to PostgreSQL, whose COPY reads the server's files.
 */
export function parseCopy(sql: string): CopyStatement {
  const code = leadingCode(sql).replace(/;\s*$/, '').trimEnd();
  const head = COPY_HEAD.exec(code);
  if (!head) throw new CopySyntaxError(`syntax error in COPY: the local Redshift supports only ${SUPPORTED}`);
  const [, table, columnList, rawUri] = head;
  const uri = rawUri!.replace(/''/g, "'");
  const s3 = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!s3) throw new CopySyntaxError(`COPY from '${uri}': the local Redshift reads only s3:// locations (${SUPPORTED})`);
  let rest = code.slice(head[0].length);
  let role = false;
  let parquet = false;
  let serializeToJson = false;
  for (;;) {
    rest = rest.replace(/^\s+/, '');
    if (!rest) break;
    const iam = /^iam_role\s+(?:'(?:[^']|'')*'|default)(?=\s|$)/i.exec(rest);
    const format = /^format\s+(?:as\s+)?parquet(?=\s|$)/i.exec(rest);
    if (iam && !role) {
      role = true;
      rest = rest.slice(iam[0].length);
    } else if (format && !parquet) {
      parquet = true;
      rest = rest.slice(format[0].length);
    } else if (/^serializetojson(?=\s|$)/i.test(rest) && !serializeToJson) {
      serializeToJson = true;
      rest = rest.slice('serializetojson'.length);
    } else {
      const word = /^\S+/.exec(rest)![0];
      throw new CopySyntaxError(`COPY option ${word} is not supported by the local Redshift (it supports only ${SUPPORTED})`);
    }
  }
  if (!parquet) throw new CopySyntaxError(`COPY without FORMAT AS PARQUET is not supported by the local Redshift (it supports only ${SUPPORTED})`);
  if (!role) throw new CopySyntaxError("COPY needs an authorization: IAM_ROLE 'arn:aws:iam::…:role/…' or IAM_ROLE default");
  const columns = columnList
    ?.split(',')
    .map((c) => c.trim())
    .filter((c) => c.length > 0);
  if (columnList !== undefined && (columns!.length === 0 || columns!.some((c) => !new RegExp(`^${IDENTIFIER}$`).test(c)))) {
    throw new CopySyntaxError(`syntax error in COPY's column list (${columnList.trim()})`);
  }
  return { table: table!.replace(/\s*\.\s*/g, '.'), ...(columns ? { columns } : {}), bucket: s3[1]!, prefix: s3[2]!, uri, serializeToJson };
}
