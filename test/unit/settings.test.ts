import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { ConfigError, InvalidSettingError, MissingSettingError } from '../../shared/core/errors';
import { loadPipeline } from '../../shared/core/config/load-config';
import { FUNCTIONS, SETTINGS, requiredSetting, setting, type SettingSpec } from '../../shared/core/settings';
import { ENVIRONMENT_DOC_FILE, environmentDoc } from '../../ops/environment-doc';
import { warehouseTargetFromEnv } from '../../shared/stages/load';

const root = join(import.meta.dirname, '..', '..');
const table = Object.entries(SETTINGS as Record<string, SettingSpec>);

/** What `read` throws (and a failure if it throws nothing). */
function caught(read: () => unknown): unknown {
  try {
    read();
  } catch (err) {
    return err;
  }
  throw new Error('nothing was thrown');
}

/** Every .ts file under a folder of the repository. */
function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)));
}

describe('docs/environment.md', () => {
  it('is what the settings table generates (npm run docs:env)', () => {
    expect(readFileSync(ENVIRONMENT_DOC_FILE, 'utf8')).toBe(environmentDoc());
  });

  it('has a row for every variable and a line for every function', () => {
    const text = environmentDoc();
    for (const [name] of table) expect(text).toContain(`| \`${name}\` |`);
    for (const fn of FUNCTIONS) expect(text).toContain(`\n- ${fn}: `);
  });
});

describe('the settings table against serverless.yml', () => {
  // the CloudFormation tags (!Ref, !Sub, …) stay unresolved: only the variables' names matter here
  const doc = parse(readFileSync(join(root, 'serverless.yml'), 'utf8'), { logLevel: 'error' }) as {
    provider: { environment?: Record<string, unknown> };
    functions: Record<string, { environment?: Record<string, unknown> }>;
  };
  const names = (environment: Record<string, unknown> | undefined) => Object.keys(environment ?? {}).sort();
  const where = (setBy: SettingSpec['setBy'], fn?: string) =>
    table
      .filter(([, spec]) => spec.setBy === setBy && (fn === undefined || spec.functions.includes(fn as never)))
      .map(([name]) => name)
      .sort();

  it('knows the functions serverless.yml deploys', () => {
    expect(Object.keys(doc.functions).sort()).toEqual([...FUNCTIONS].sort());
  });

  it("lists exactly the provider's variables as set for every function", () => {
    expect(names(doc.provider.environment)).toEqual(where('provider'));
  });

  it.each(FUNCTIONS)("lists exactly the variables of %s's environment as read by it", (fn) => {
    expect(names(doc.functions[fn]!.environment)).toEqual(where('function', fn));
  });

  it('sets nothing serverless.yml does not: those set by the local stack, by Lambda or by you', () => {
    const deployed = new Set([...names(doc.provider.environment), ...Object.values(doc.functions).flatMap((f) => names(f.environment))]);
    for (const [name, spec] of table) {
      if (spec.setBy === 'provider' || spec.setBy === 'function') continue;
      expect(deployed.has(name), name).toBe(false);
    }
  });

  it('says local-stack variables only of what the local stack sets', () => {
    const local = sources('local')
      .map((file) => readFileSync(join(root, file), 'utf8'))
      .join('\n');
    for (const [name, spec] of table) {
      if (spec.setBy === 'local') expect(local, name).toContain(name);
      if (spec.setBy === 'operator') expect(local, name).not.toContain(name);
    }
  });
});

describe('the settings table', () => {
  it('describes each variable once, completely', () => {
    for (const [name, spec] of table) {
      expect(name).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(spec.functions.length, name).toBeGreaterThan(0);
      expect(
        spec.functions.every((fn) => FUNCTIONS.includes(fn)),
        name,
      ).toBe(true);
      expect(new Set(spec.functions).size, name).toBe(spec.functions.length);
      expect(spec.meaning, name).not.toBe('');
      expect(spec.required && spec.default !== undefined, `${name}: required with a default`).toBeFalsy();
      // an optional setting without a default says what its absence means
      if (!spec.readBy && !spec.required && spec.default === undefined) expect(spec.unset, name).toBeTruthy();
    }
  });

  it('has defaults that parse as their type', () => {
    for (const [name, spec] of table) {
      if (spec.default === undefined || spec.readBy) continue;
      expect(() => setting(name as never, {}), name).not.toThrow();
    }
  });

  it('is the only reader of the environment in functions/ and shared/', () => {
    const readers = [...sources('functions'), ...sources('shared')].filter((file) => file !== 'shared/core/settings.ts');
    const read = /process\.env\s*[.[]|\benv\.[A-Z_]+|\benv\[['"`]/;
    const offending = readers.filter((file) => read.test(readFileSync(join(root, file), 'utf8')));
    expect(offending).toEqual([]);
  });
});

describe('setting()', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('reads the process environment unless given one', () => {
    vi.stubEnv('LANDFALL_STAGE', 'ci');
    expect(setting('LANDFALL_STAGE')).toBe('ci');
    expect(setting('LANDFALL_STAGE', { LANDFALL_STAGE: 'prod' })).toBe('prod');
  });

  it('gives the default for an unset or empty variable, and undefined for an optional one without a default', () => {
    expect(setting('LANDFALL_STAGE', {})).toBe('unknown');
    expect(setting('LANDFALL_STAGE', { LANDFALL_STAGE: '' })).toBe('unknown');
    expect(setting('EMR_MODE', {})).toBe('transient');
    expect(setting('AWS_REGION', {})).toBe('us-east-1');
    expect(setting('EMR_MAX_STEP_FAILURES', {})).toBe(3);
    expect(setting('EMR_BACKOFF_BASE_SECONDS', {})).toBe(30);
    expect(setting('EMR_CLUSTER_WAIT_SECONDS', {})).toBe(30);
    expect(setting('WAREHOUSE_BACKOFF_BASE_SECONDS', {})).toBe(5);
    expect(setting('WAREHOUSE_MAX_ATTEMPTS', {})).toBe(6);
    expect(setting('LANDFALL_S3_PATH_STYLE', {})).toBe(false);
    expect(setting('SPARK_SUBMIT_ARGS', {})).toEqual([]);
    expect(setting('FAILED_EVENTS_QUEUE_URL', {})).toBeUndefined();
    expect(setting('LANDFALL_CONFIG_FILE', { LANDFALL_CONFIG_FILE: '' })).toBeUndefined();
  });

  it('parses numbers, booleans and JSON', () => {
    expect(setting('EMR_MAX_STEP_FAILURES', { EMR_MAX_STEP_FAILURES: '5' })).toBe(5);
    expect(setting('WAREHOUSE_BACKOFF_BASE_SECONDS', { WAREHOUSE_BACKOFF_BASE_SECONDS: '0.5' })).toBe(0.5);
    expect(setting('LANDFALL_S3_PATH_STYLE', { LANDFALL_S3_PATH_STYLE: 'true' })).toBe(true);
    expect(setting('LANDFALL_S3_PATH_STYLE', { LANDFALL_S3_PATH_STYLE: 'false' })).toBe(false);
    expect(setting('ARC_ENDPOINTS', { ARC_ENDPOINTS: '["https://a","https://b"]' })).toEqual(['https://a', 'https://b']);
    // a default is parsed afresh each time: a caller changing it changes nobody else's
    (setting('SPARK_SUBMIT_ARGS', {}) as string[]).push('--verbose');
    expect(setting('SPARK_SUBMIT_ARGS', {})).toEqual([]);
  });

  it('refuses a missing required variable, naming it and the functions that need it', () => {
    const err = caught(() => setting('JOB_RUNS_TABLE', { JOB_RUNS_TABLE: '' }));
    expect(err).toBeInstanceOf(MissingSettingError);
    expect(err).toMatchObject({
      name: 'MissingSettingError',
      code: 'SETTING_MISSING',
      setting: 'JOB_RUNS_TABLE',
      functions: ['resolve', 'jobstep', 'transform', 'emrstep', 'reconcile'],
      message: 'missing setting: environment variable JOB_RUNS_TABLE is not set (needed by the functions resolve, jobstep, transform, emrstep, reconcile)',
    });
    expect(() => setting('ARC_REGION', {})).toThrow('missing setting: environment variable ARC_REGION is not set (needed by the function emrstep)');
    expect(() => requiredSetting('EMR_CLUSTER_SPEC', {})).toThrow(
      'missing setting: environment variable EMR_CLUSTER_SPEC is not set (needed by the function emrstep)',
    );
    expect(new MissingSettingError('X').message).toBe('missing setting: environment variable X is not set');
  });

  it('refuses a value that is not its type, naming the variable and the functions that read it', () => {
    const cases: Array<[() => unknown, string]> = [
      [
        () => setting('EMR_MAX_STEP_FAILURES', { EMR_MAX_STEP_FAILURES: 'three' }),
        "invalid setting: environment variable EMR_MAX_STEP_FAILURES is not a number: 'three' (read by the function emrstep)",
      ],
      [
        () => setting('WAREHOUSE_MAX_ATTEMPTS', { WAREHOUSE_MAX_ATTEMPTS: ' ' }),
        "invalid setting: environment variable WAREHOUSE_MAX_ATTEMPTS is not a number: ' ' (read by the function load)",
      ],
      [
        () => setting('EMR_CLUSTER_WAIT_SECONDS', { EMR_CLUSTER_WAIT_SECONDS: 'Infinity' }),
        "invalid setting: environment variable EMR_CLUSTER_WAIT_SECONDS is not a number: 'Infinity' (read by the function emrstep)",
      ],
      [
        () => setting('LANDFALL_S3_PATH_STYLE', { LANDFALL_S3_PATH_STYLE: 'yes' }),
        "invalid setting: environment variable LANDFALL_S3_PATH_STYLE is not true or false: 'yes' (read by the functions validate, convert, track, resolve, jobstep, transform, emrstep, reconcile)",
      ],
    ];
    for (const [read, message] of cases) {
      expect(read).toThrow(InvalidSettingError);
      expect(read).toThrow(message);
    }
    expect(() => setting('ARC_ENDPOINTS', { ARC_ENDPOINTS: '["https://a"' })).toThrow(
      /^invalid setting: environment variable ARC_ENDPOINTS is not valid JSON: .* \(read by the function emrstep\)$/,
    );
    const err = caught(() => setting('SPARK_SUBMIT_ARGS', { SPARK_SUBMIT_ARGS: '--py-files x' }));
    expect(err).toMatchObject({ name: 'InvalidSettingError', code: 'SETTING_INVALID', setting: 'SPARK_SUBMIT_ARGS', functions: ['emrstep'] });
    expect((err as InvalidSettingError).problem).toMatch(/^is not valid JSON: /);
  });
});

describe('the readers built on it', () => {
  const warehouse = { WAREHOUSE_DATABASE: 'dev', WAREHOUSE_COPY_ROLE_ARN: 'arn:aws:iam::1:role/copy' };

  it('warehouseTargetFromEnv: a workgroup, or a cluster with its secret', () => {
    expect(warehouseTargetFromEnv({ ...warehouse, WAREHOUSE_WORKGROUP: 'wg', WAREHOUSE_CLUSTER_ID: '' })).toEqual({
      database: 'dev',
      workgroupName: 'wg',
      copyRoleArn: 'arn:aws:iam::1:role/copy',
    });
    expect(warehouseTargetFromEnv({ ...warehouse, WAREHOUSE_CLUSTER_ID: 'c1', WAREHOUSE_SECRET_ARN: 's' })).toEqual({
      database: 'dev',
      clusterIdentifier: 'c1',
      secretArn: 's',
      copyRoleArn: 'arn:aws:iam::1:role/copy',
    });
    expect(() => warehouseTargetFromEnv(warehouse)).toThrow(
      'missing setting: environment variable WAREHOUSE_WORKGROUP (or WAREHOUSE_CLUSTER_ID) is not set (needed by the function load)',
    );
    expect(() => warehouseTargetFromEnv({ ...warehouse, WAREHOUSE_CLUSTER_ID: 'c1' })).toThrow(MissingSettingError);
    expect(() => warehouseTargetFromEnv({ ...warehouse, WAREHOUSE_WORKGROUP: 'wg', WAREHOUSE_CLUSTER_ID: 'c1' })).toThrow(InvalidSettingError);
    expect(() => warehouseTargetFromEnv({ WAREHOUSE_WORKGROUP: 'wg', WAREHOUSE_COPY_ROLE_ARN: 'r' })).toThrow(/WAREHOUSE_DATABASE is not set/);
  });

  it('loadPipeline: the file LANDFALL_CONFIG_FILE names must exist', () => {
    expect(() => loadPipeline({ LANDFALL_CONFIG_FILE: '/nowhere/pipeline.yaml' })).toThrow(ConfigError);
    expect(() => loadPipeline({ LANDFALL_CONFIG_FILE: '/nowhere/pipeline.yaml' })).toThrow(/\/nowhere\/pipeline\.yaml: \(file\): does not exist/);
  });
});
