import { protocol, type PGlite } from '@electric-sql/pglite';

/*
 * Statements on PGlite through the extended query protocol (PGlite's execProtocol): values bound as
 * text (as the Data API's parameters are), every result value as PostgreSQL's text output (no
 * float for a numeric, no Date for a date), the row description's type modifiers (a numeric's
 * precision and scale) and the command tag (rows affected). The caller holds PGlite's query lock
 * (db.runExclusive) around these calls.
 */

export interface PgField {
  name: string;
  tableID: number;
  columnID: number;
  dataTypeID: number;
  dataTypeSize: number;
  dataTypeModifier: number;
}

export interface PgResult {
  /** the row description: present for a statement that returns rows (even none) */
  fields?: PgField[];
  /** each value as PostgreSQL's text output, or null */
  rows: Array<Array<string | null>>;
  /** the command tag, e.g. `INSERT 0 3`, `SELECT 2`, `CREATE TABLE` */
  command: string;
  /** rows returned (a query) or affected (INSERT, UPDATE, DELETE, MERGE, COPY); 0 for other commands */
  rowCount: number;
}

/** An error PostgreSQL reported; `message` is Redshift's Data API form: `ERROR: <message> DETAIL: <detail>`. */
export class PgError extends Error {
  constructor(
    readonly pgMessage: string,
    readonly code?: string,
    readonly detail?: string,
  ) {
    super(`ERROR: ${pgMessage}${detail ? ` DETAIL: ${detail}` : ''}`);
  }
}

interface ProtocolMessage {
  name: string;
  fields?: unknown;
  text?: string;
  message?: string;
  code?: string;
  detail?: string;
}

const serialize = protocol.serialize;

/** Runs one statement with its `$n` values (all text; PostgreSQL infers their types from the statement). */
export async function execute(db: PGlite, text: string, values: Array<string | null> = []): Promise<PgResult> {
  const parts = [serialize.parse({ text }), serialize.bind({ values }), serialize.describe({ type: 'P' }), serialize.execute({}), serialize.sync()];
  const message = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    message.set(p, offset);
    offset += p.byteLength;
  }
  const { messages } = await db.execProtocol(message, { throwOnError: false });
  const result: PgResult = { rows: [], command: '', rowCount: 0 };
  for (const m of messages as unknown as ProtocolMessage[]) {
    if (m.name === 'error') throw new PgError(m.message ?? 'unknown error', m.code, m.detail);
    if (m.name === 'rowDescription') result.fields = (m.fields as PgField[]).map((f) => ({ ...f }));
    else if (m.name === 'dataRow') result.rows.push(m.fields as Array<string | null>);
    else if (m.name === 'commandComplete') result.command = m.text ?? '';
  }
  const count = /^(?:INSERT \d+|UPDATE|DELETE|MERGE|COPY|SELECT|FETCH|MOVE) (\d+)$/.exec(result.command);
  result.rowCount = count ? Number(count[1]) : 0;
  return result;
}

/** PostgreSQL type OIDs the Data API's Field and ColumnMetadata are derived from. */
const OID = { bool: 16, int8: 20, int2: 21, int4: 23, oid: 26, float4: 700, float8: 701, bpchar: 1042, varchar: 1043, numeric: 1700 } as const;
const INTEGERS = new Set<number>([OID.int8, OID.int2, OID.int4, OID.oid]);
const FLOATS = new Set<number>([OID.float4, OID.float8]);
const TEXTS = new Set<number>([25, OID.bpchar, OID.varchar, 19, 18]);

/** One value as the Data API's Field: booleanValue, longValue (integers), doubleValue (floats), stringValue (everything else, numeric included), isNull. */
export type DataField = { isNull: true } | { booleanValue: boolean } | { longValue: number } | { doubleValue: number } | { stringValue: string };

export function toField(dataTypeID: number, text: string | null): DataField {
  if (text === null) return { isNull: true };
  if (dataTypeID === OID.bool) return { booleanValue: text === 't' || text === 'true' };
  if (INTEGERS.has(dataTypeID)) return { longValue: Number(text) };
  if (FLOATS.has(dataTypeID)) {
    const n = Number(text);
    // JSON has no NaN or Infinity
    return Number.isFinite(n) ? { doubleValue: n } : { stringValue: text };
  }
  return { stringValue: text };
}

/** The Data API's ColumnMetadata for a result's fields (table, schema and nullability looked up for table columns). */
export async function columnMetadata(db: PGlite, fields: PgField[]): Promise<Array<Record<string, unknown>>> {
  const typeNames = new Map<number, string>();
  const typeIds = [...new Set(fields.map((f) => f.dataTypeID))];
  for (const row of (await execute(db, 'SELECT oid::int8, typname FROM pg_type WHERE oid = ANY($1::oid[])', [`{${typeIds.join(',')}}`])).rows)
    typeNames.set(Number(row[0]), row[1]!);
  const columns = new Map<string, { schema: string; table: string; notNull: boolean; default?: string; domain?: string }>();
  const tables = [...new Set(fields.filter((f) => f.tableID !== 0).map((f) => f.tableID))];
  if (tables.length > 0) {
    // a domain column (SUPER) reaches the client as its base type (json): its name comes from the table
    const found = await execute(
      db,
      `SELECT a.attrelid::int8, a.attnum, n.nspname, c.relname, a.attnotnull, pg_get_expr(d.adbin, d.adrelid), CASE WHEN t.typtype = 'd' THEN t.typname END
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_type t ON t.oid = a.atttypid
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0`,
      [`{${tables.join(',')}}`],
    );
    for (const [rel, num, schema, table, notNull, def, domain] of found.rows) {
      columns.set(`${rel}/${num}`, {
        schema: schema!,
        table: table!,
        notNull: notNull === 't',
        ...(def ? { default: def } : {}),
        ...(domain ? { domain } : {}),
      });
    }
  }
  return fields.map((f) => {
    const column = columns.get(`${f.tableID}/${f.columnID}`);
    const { precision, scale } = precisionAndScale(f);
    return {
      name: f.name,
      label: f.name,
      typeName: column?.domain ?? typeNames.get(f.dataTypeID) ?? String(f.dataTypeID),
      precision,
      scale,
      length: 0,
      nullable: column?.notNull ? 0 : 1,
      isSigned: INTEGERS.has(f.dataTypeID) || FLOATS.has(f.dataTypeID) || f.dataTypeID === OID.numeric,
      isCaseSensitive: TEXTS.has(f.dataTypeID),
      isCurrency: false,
      schemaName: column?.schema ?? '',
      tableName: column?.table ?? '',
      ...(column?.default !== undefined ? { columnDefault: column.default } : {}),
    };
  });
}

const PRECISION: Record<number, number> = {
  [OID.bool]: 1,
  [OID.int2]: 5,
  [OID.int4]: 10,
  [OID.int8]: 19,
  [OID.float4]: 8,
  [OID.float8]: 17,
  1082: 13,
  1114: 29,
  1184: 35,
};

function precisionAndScale(f: PgField): { precision: number; scale: number } {
  const mod = f.dataTypeModifier;
  if (f.dataTypeID === OID.numeric) return mod >= 4 ? { precision: ((mod - 4) >> 16) & 0xffff, scale: (mod - 4) & 0xffff } : { precision: 0, scale: 0 };
  if (f.dataTypeID === OID.varchar || f.dataTypeID === OID.bpchar) return { precision: mod >= 4 ? mod - 4 : 0, scale: 0 };
  return { precision: PRECISION[f.dataTypeID] ?? 0, scale: 0 };
}
