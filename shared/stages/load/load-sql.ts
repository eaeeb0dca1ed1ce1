import type { CatalogColumn, CatalogTable } from '../../core/catalog/tables';
import type { WarehouseLoad } from '../../core/config/types';

/**
 * The statements of one batch's warehouse load, run by the Redshift Data API as ONE transaction
 * (BatchExecuteStatement): per table, COPY exactly the batch's curated objects into a staging
 * table, then replace the batch's partition rows (DELETE + INSERT) or MERGE on the key, and an
 * audit row. A failure anywhere rolls every table back. The SQL keeps to what Redshift and
 * PostgreSQL both run (the local warehouse is PostgreSQL). BatchExecuteStatement takes no
 * parameters, so values are literals: they are batch key values and names the validated
 * configuration allows, quoted here once more.
 */
export interface TableLoad {
  load: WarehouseLoad;
  table: CatalogTable;
  /** s3:// URI of the batch's object (one file) or partition folder (ending in `/`) */
  from: string;
}

export interface LoadBatch {
  executionName: string;
  batchId: string;
  /** the batch key's values (the partition the load replaces) */
  values: Record<string, string>;
  /** the IAM role Redshift assumes for COPY (associated with the cluster or namespace) */
  copyRoleArn: string;
  /** when the load was built (the audit row's time) */
  at: Date;
  tables: TableLoad[];
}

export const AUDIT_TABLE = 'landfall_load_audit';
/** Redshift's statement limit per BatchExecuteStatement */
export const MAX_STATEMENTS = 40;

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

export function quoteName(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`not a safe identifier: ${JSON.stringify(name)}`);
  return `"${name}"`;
}

export function literal(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
  if (/[\u0000-\u001f\\]/.test(value)) throw new Error(`value not allowed in a warehouse statement: ${JSON.stringify(value)}`);
  return `'${value.replaceAll("'", "''")}'`;
}

/**
 * Hive type → the Redshift column type that holds it exactly. A struct or an array is SUPER (COPY
 * reads it as JSON: see copyOptions). A time of day is a string by then (Parquet and Glue have no
 * time type), so a VARCHAR like any string.
 */
export function redshiftType(type: string): string {
  if (isNestedHiveType(type)) return 'SUPER';
  const decimal = /^decimal\((\d+),(\d+)\)$/.exec(type);
  if (decimal) return `DECIMAL(${decimal[1]},${decimal[2]})`;
  const types: Record<string, string> = {
    string: 'VARCHAR(65535)',
    bigint: 'BIGINT',
    int: 'INTEGER',
    smallint: 'SMALLINT',
    tinyint: 'SMALLINT',
    double: 'DOUBLE PRECISION',
    float: 'REAL',
    boolean: 'BOOLEAN',
    date: 'DATE',
    timestamp: 'TIMESTAMP',
  };
  const mapped = types[type];
  if (!mapped) throw new Error(`column type ${type} cannot be loaded into the warehouse`);
  return mapped;
}

function isNestedHiveType(type: string): boolean {
  return type.startsWith('struct<') || type.startsWith('array<') || type.startsWith('map<');
}

/** COPY's format: Parquet, its nested columns (SUPER) read as JSON (Redshift's SERIALIZETOJSON). */
export function copyFormat(columns: CatalogColumn[]): string {
  return columns.some((c) => isNestedHiveType(c.type)) ? 'FORMAT AS PARQUET SERIALIZETOJSON' : 'FORMAT AS PARQUET';
}

/** The warehouse table's columns: the file's, then each partition key the path alone holds. */
export function warehouseColumns(table: CatalogTable): CatalogColumn[] {
  const inFile = new Set(table.fileColumns.map((c) => c.name));
  return [...table.fileColumns, ...table.partitionKeys.filter((k) => !inFile.has(k.name)).map((k) => ({ name: k.name, type: k.type }))];
}

const columnList = (columns: CatalogColumn[]) => columns.map((c) => `${quoteName(c.name)} ${redshiftType(c.type)}`).join(', ');

function partitionValue(batch: LoadBatch, key: { name: string; type: string }): string {
  const value = batch.values[key.name];
  if (value === undefined) throw new Error(`batch ${batch.batchId} has no value for partition key ${key.name}`);
  return key.type === 'date' ? `CAST(${literal(value)} AS DATE)` : literal(value);
}

function tableStatements(batch: LoadBatch, { load, table, from }: TableLoad): string[] {
  const target = quoteName(load.into);
  const staging = quoteName(`landfall_staging_${load.into}`);
  const all = warehouseColumns(table);
  const inFile = new Set(table.fileColumns.map((c) => c.name));
  // a partition key the file lacks comes from the batch's value
  const sourceValue = (c: CatalogColumn, alias?: string) => {
    if (inFile.has(c.name)) return alias ? `${alias}.${quoteName(c.name)}` : quoteName(c.name);
    return partitionValue(batch, table.partitionKeys.find((k) => k.name === c.name)!);
  };
  for (const k of load.key) if (!all.some((c) => c.name === k)) throw new Error(`load into ${load.into}: key column ${k} is not a column of ${table.name}`);
  const statements = [
    `CREATE TABLE IF NOT EXISTS ${target} (${columnList(all)})`,
    `CREATE TEMP TABLE ${staging} (${columnList(table.fileColumns)})`,
    `COPY ${staging} FROM ${literal(from)} IAM_ROLE ${literal(batch.copyRoleArn)} ${copyFormat(table.fileColumns)}`,
  ];
  if (load.mode === 'replace') {
    const where = table.partitionKeys.map((k) => `${quoteName(k.name)} = ${partitionValue(batch, k)}`).join(' AND ');
    statements.push(`DELETE FROM ${target} WHERE ${where}`);
    statements.push(
      `INSERT INTO ${target} (${all.map((c) => quoteName(c.name)).join(', ')}) SELECT ${all.map((c) => sourceValue(c)).join(', ')} FROM ${staging}`,
    );
  } else {
    // a key column the path alone holds (the date of a Spark table) is the batch's value
    const on = load.key.map((k) => `${target}.${quoteName(k)} = ${sourceValue(all.find((c) => c.name === k)!, 's')}`).join(' AND ');
    const updated = all.filter((c) => !load.key.includes(c.name));
    statements.push(
      `MERGE INTO ${target} USING ${staging} AS s ON ${on}` +
        (updated.length > 0 ? ` WHEN MATCHED THEN UPDATE SET ${updated.map((c) => `${quoteName(c.name)} = ${sourceValue(c, 's')}`).join(', ')}` : '') +
        ` WHEN NOT MATCHED THEN INSERT (${all.map((c) => quoteName(c.name)).join(', ')}) VALUES (${all.map((c) => sourceValue(c, 's')).join(', ')})`,
    );
  }
  statements.push(
    `INSERT INTO ${quoteName(AUDIT_TABLE)} (execution_name, batch_id, table_name, mode, source, row_count, loaded_at) SELECT ${[batch.executionName, batch.batchId, load.into, load.mode, from].map(literal).join(', ')}, COUNT(*), CAST(${literal(batch.at.toISOString().replace('T', ' ').replace('Z', ''))} AS TIMESTAMP) FROM ${staging}`,
  );
  return statements;
}

/** Every statement of the batch's load, in order (one transaction). */
export function loadStatements(batch: LoadBatch): string[] {
  const statements = [
    `CREATE TABLE IF NOT EXISTS ${quoteName(AUDIT_TABLE)} (execution_name VARCHAR(256), batch_id VARCHAR(1024), table_name VARCHAR(128), mode VARCHAR(16), source VARCHAR(2048), row_count BIGINT, loaded_at TIMESTAMP)`,
    ...batch.tables.flatMap((t) => tableStatements(batch, t)),
  ];
  if (statements.length > MAX_STATEMENTS)
    throw new Error(
      `the load of ${batch.batchId} needs ${statements.length} statements; one BatchExecuteStatement takes at most ${MAX_STATEMENTS} (split the job's tables)`,
    );
  return statements;
}
