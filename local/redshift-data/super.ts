import type { PGlite } from '@electric-sql/pglite';

/*
 * Redshift's SUPER on PGlite: a domain over `json`, so `CREATE TABLE t (c SUPER)` runs as written.
 * `json` (not jsonb) keeps a value's text as stored, which is what Redshift shows for SUPER: compact
 * JSON with the attributes in their original order (`{"b":1,"a":[1,2]}`); jsonb would reorder keys
 * and add spaces. COPY … SERIALIZETOJSON stores DuckDB's compact to_json text; JSON_PARSE compacts
 * its argument the same way. JSON_SERIALIZE is a keyword of PostgreSQL's (whose own refuses a
 * domain): statements call landfall_json_serialize instead (sql.ts renames it), which gives the
 * text back, 'null' for NULL as Redshift's. Not modelled: PartiQL navigation (c.a[0]), comparisons and GROUP BY on SUPER, `'…'::super` as a
 * string scalar (PostgreSQL parses it as JSON).
 */

/** The SQL that gives the database Redshift's SUPER type, JSON_PARSE and JSON_SERIALIZE (as landfall_json_serialize). */
export const REDSHIFT_SUPER_SQL = `
CREATE DOMAIN super AS json;

CREATE FUNCTION landfall_json_compact(v json) RETURNS text LANGUAGE plpgsql IMMUTABLE STRICT AS $compact$
DECLARE
  out text;
BEGIN
  CASE json_typeof(v)
    WHEN 'object' THEN
      SELECT '{' || coalesce(string_agg(to_json(e.key)::text || ':' || landfall_json_compact(e.value), ',' ORDER BY e.n), '') || '}'
        INTO out FROM json_each(v) WITH ORDINALITY AS e(key, value, n);
    WHEN 'array' THEN
      SELECT '[' || coalesce(string_agg(landfall_json_compact(e.value), ',' ORDER BY e.n), '') || ']'
        INTO out FROM json_array_elements(v) WITH ORDINALITY AS e(value, n);
    ELSE
      -- a scalar: jsonb's text is compact (a string re-escaped, a number as written)
      out := v::jsonb::text;
  END CASE;
  RETURN out;
END
$compact$;

CREATE FUNCTION json_parse(text) RETURNS super LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT landfall_json_compact($1::json)::super $$;

CREATE FUNCTION landfall_json_serialize(super) RETURNS varchar LANGUAGE sql IMMUTABLE AS $$ SELECT coalesce($1::text, 'null') $$;
`;

/** Installs SUPER and JSON_PARSE (once, on a new database). */
export async function installRedshiftSuper(db: PGlite): Promise<void> {
  await db.exec(REDSHIFT_SUPER_SQL);
}
