import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CopyError, isNestedType, sourceExpression, targetColumn } from '../../local/redshift-data/copy';
import { CopySyntaxError, parseCopy, renameRedshiftFunctions } from '../../local/redshift-data/sql';
import { installRedshiftSuper } from '../../local/redshift-data/super';

/*
 * The local Redshift's SUPER and VARCHAR rules, without servers: COPY's parsing of
 * SERIALIZETOJSON, what a target column allows, and SUPER on an in-process PGlite.
 */

const URI = 's3://b/k.parquet';

describe('COPY … SERIALIZETOJSON parsing', () => {
  it('takes SERIALIZETOJSON after FORMAT AS PARQUET (any case, any option order) and notes its absence', () => {
    const copy = parseCopy("COPY t FROM 's3://b/p/' FORMAT AS PARQUET serializetojson IAM_ROLE default;");
    expect(copy).toMatchObject({ table: 't', bucket: 'b', prefix: 'p/', serializeToJson: true });
    expect(parseCopy("COPY t FROM 's3://b/p/' IAM_ROLE default FORMAT PARQUET").serializeToJson).toBe(false);
  });

  it('refuses SERIALIZETOJSON twice, and an unknown option next to it', () => {
    expect(() => parseCopy("COPY t FROM 's3://b/p' IAM_ROLE default FORMAT PARQUET SERIALIZETOJSON SERIALIZETOJSON")).toThrow(CopySyntaxError);
    expect(() => parseCopy("COPY t FROM 's3://b/p' IAM_ROLE default FORMAT PARQUET SERIALIZETOJSONX")).toThrow(/COPY option SERIALIZETOJSONX is not supported/);
  });
});

describe('target columns', () => {
  it('counts a VARCHAR or CHAR limit in bytes; a bare VARCHAR or TEXT holds 256 (Redshift), SUPER has none', () => {
    expect(targetColumn('name', 'varchar', 14, 'character varying(10)')).toMatchObject({
      ident: '"name"',
      redshiftType: 'VARCHAR(10)',
      isSuper: false,
      bytes: { limit: 10, typeName: 'character varying(10)' },
    });
    expect(targetColumn('code', 'bpchar', 7, 'character(3)').bytes).toEqual({ limit: 3, typeName: 'character(3)' });
    expect(targetColumn('free', 'varchar', -1, 'character varying').bytes?.limit).toBe(256);
    expect(targetColumn('body', 'text', -1, 'text').bytes?.limit).toBe(256);
    expect(targetColumn('doc', 'super', -1, 'super')).toEqual({ ident: '"doc"', name: 'doc', redshiftType: 'SUPER', isSuper: true });
    expect(targetColumn('n', 'int4', -1, 'integer')).toEqual({ ident: '"n"', name: 'n', redshiftType: 'INTEGER', isSuper: false });
  });
});

describe('Parquet column → target column', () => {
  const superColumn = targetColumn('doc', 'super', -1, 'super');
  const varchar = targetColumn('doc', 'varchar', 104, 'character varying(100)');
  const integer = targetColumn('doc', 'int4', -1, 'integer');
  const struct = { name: 'user', type: 'STRUCT(id INTEGER, tags VARCHAR[])' };

  it('knows the nested DuckDB types: struct, list, map, union', () => {
    expect(
      ['STRUCT(a INTEGER)', 'INTEGER[]', 'STRUCT(a INTEGER)[]', 'MAP(VARCHAR, INTEGER)', 'UNION(a INTEGER, b VARCHAR)', 'INTEGER[3]'].every(isNestedType),
    ).toBe(true);
    expect(['INTEGER', 'VARCHAR', 'DECIMAL(12,2)', 'TIMESTAMP WITH TIME ZONE', 'BLOB'].some(isNestedType)).toBe(false);
  });

  it('reads a nested column as its JSON text with SERIALIZETOJSON, into SUPER or VARCHAR', () => {
    expect(sourceExpression(struct, superColumn, { serializeToJson: true }, URI)).toBe('CAST(to_json("user") AS VARCHAR)');
    expect(sourceExpression(struct, varchar, { serializeToJson: true }, URI)).toBe('CAST(to_json("user") AS VARCHAR)');
  });

  it("refuses a nested column into SUPER without SERIALIZETOJSON, in Redshift's words, naming file, column and types", () => {
    const refused = () => sourceExpression(struct, superColumn, { serializeToJson: false }, URI);
    expect(refused).toThrow(CopyError);
    expect(refused).toThrow(
      `ERROR: Spectrum Scan Error DETAIL: error: Spectrum Scan Error code: 15007 context: File '${URI}' has an incompatible Parquet schema for column '${URI}.user'. Column type: SUPER, Parquet schema: STRUCT(id INTEGER, tags VARCHAR[]) (a nested Parquet column loads into a SUPER column only with SERIALIZETOJSON)`,
    );
  });

  it('refuses a nested column into a scalar column even with SERIALIZETOJSON, and into VARCHAR without it', () => {
    expect(() => sourceExpression(struct, integer, { serializeToJson: true }, URI)).toThrow(
      /incompatible Parquet schema .* Column type: INTEGER, Parquet schema: STRUCT/,
    );
    expect(() => sourceExpression(struct, varchar, { serializeToJson: false }, URI)).toThrow(/Column type: VARCHAR\(100\)/);
  });

  it('reads a scalar into SUPER as a JSON scalar, and into other columns as text', () => {
    expect(sourceExpression({ name: 'v', type: 'VARCHAR' }, superColumn, { serializeToJson: false }, URI)).toBe('CAST(to_json("v") AS VARCHAR)');
    expect(sourceExpression({ name: 'v', type: 'VARCHAR' }, varchar, { serializeToJson: true }, URI)).toBe('CAST("v" AS VARCHAR)');
  });
});

describe('SUPER on PGlite', () => {
  let db: PGlite;
  beforeAll(async () => {
    db = new PGlite();
    await installRedshiftSuper(db);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('creates a SUPER column and keeps the JSON text as stored (attribute order and all)', async () => {
    await db.exec('CREATE TABLE docs (id INT, doc SUPER)');
    await db.query('INSERT INTO docs VALUES (1, $1), (2, NULL)', ['{"b":1,"a":[1,2]}']);
    expect((await db.query('SELECT doc::text AS doc FROM docs ORDER BY id')).rows).toEqual([{ doc: '{"b":1,"a":[1,2]}' }, { doc: null }]);
    await expect(db.query('INSERT INTO docs VALUES (3, $1)', ['{not json'])).rejects.toThrow(/invalid input syntax for type json/);
  });

  it('JSON_PARSE compacts (order kept, strings re-escaped, numbers as written); JSON_SERIALIZE gives the text, null for NULL', async () => {
    const rows = await db.query<{ parsed: string; scalar: string; empty: string; none: string }>(
      renameRedshiftFunctions(`SELECT JSON_PARSE('{ "z" : [ 1, 2.50, {"x":null} ], "a" : "caf\\u00e9 \\"q\\"", "e": {} }')::text AS parsed,
              JSON_SERIALIZE(JSON_PARSE(' "s" ')) AS scalar, JSON_PARSE('[ ]')::text AS empty, Json_Serialize (NULL) AS none`),
    );
    expect(rows.rows).toEqual([{ parsed: '{"z":[1,2.50,{"x":null}],"a":"café \\"q\\"","e":{}}', scalar: '"s"', empty: '[]', none: 'null' }]);
  });

  it('renames JSON_SERIALIZE only where it is code (not in a literal or comment)', () => {
    expect(renameRedshiftFunctions(`SELECT json_serialize(d), 'json_serialize(x)' -- JSON_SERIALIZE(y)\nFROM t`)).toBe(
      `SELECT landfall_json_serialize(d), 'json_serialize(x)' -- JSON_SERIALIZE(y)\nFROM t`,
    );
  });
});
