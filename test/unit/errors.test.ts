import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AWS_ERROR_NAMES, AWS_ERROR_PREFIXES, STATE_MACHINE_ERRORS } from '../../shared/core/error-names';
import { LandfallError } from '../../shared/core/errors';
import * as coreErrors from '../../shared/core/errors';
import * as emrErrors from '../../shared/core/emr/errors';
import * as clusterSpec from '../../shared/core/emr/cluster-spec';
import * as failoverErrors from '../../shared/core/failover/errors';
import * as fileState from '../../shared/core/state/file-state';
import * as objectIo from '../../shared/core/s3/object-io';
import * as rawGet from '../../shared/core/s3/raw-get';
import * as glueTypes from '../../shared/stages/catalog/glue-types';
import * as resolver from '../../shared/stages/resolve/resolver';
import * as loadRun from '../../shared/stages/load/load-run';
import * as convertObject from '../../shared/stages/convert/convert-object';
import * as runSql from '../../shared/stages/transform/run-sql';
import * as runStage from '../../shared/stages/transform/run-stage';
import * as verdict from '../../shared/stages/validate/verdict';
import * as textLines from '../../shared/stages/validate/text-lines';
import * as emrFlow from '../../shared/stages/orchestrate/emr-flow';
import * as jobSteps from '../../shared/stages/orchestrate/job-steps';
import * as feedErrors from '../../shared/core/feeds/canonical';
import * as archive from '../../shared/stages/unpack/archive';
import * as sqlBinding from '../../shared/stages/catalog/sql-binding';
import * as glueColumns from '../../shared/core/catalog/glue-columns';
import * as checkFailed from '../../shared/core/checks/check-failed';

const root = join(import.meta.dirname, '..', '..');
type ErrorClass = abstract new (...args: never[]) => Error;

/** Every module of functions/ and shared/ that defines an error class (the last test keeps this list complete). */
const MODULES = [
  coreErrors,
  emrErrors,
  clusterSpec,
  failoverErrors,
  fileState,
  objectIo,
  rawGet,
  glueTypes,
  resolver,
  loadRun,
  convertObject,
  runSql,
  runStage,
  verdict,
  textLines,
  emrFlow,
  jobSteps,
  feedErrors,
  archive,
  sqlBinding,
  glueColumns,
  checkFailed,
];

const errorClasses: ErrorClass[] = [
  ...new Set(
    MODULES.flatMap((module) => Object.values(module)).filter((value): value is ErrorClass => typeof value === 'function' && value.prototype instanceof Error),
  ),
];
const concrete = errorClasses.filter((cls) => cls !== LandfallError);

/** Constructor arguments for the classes that need more than a message. */
const ARGUMENTS: Record<string, unknown[]> = {
  ConfigError: ['field', 'problem'],
  MissingSettingError: ['SETTING'],
  InvalidSettingError: ['SETTING', 'is not a number'],
  NoArcEndpointError: ['read', []],
  InconsistentRoutingError: [{ 'cell-a': 'On', 'cell-b': 'On' }],
  MissingInputError: ['orders'],
  StepFailedError: ['FAILED', { clusterId: 'j-1', stepId: 's-1' }],
  ClusterUnhealthyError: ['unreachable', { clusterId: 'j-1' }],
  ClusterEndedError: ['USER_REQUEST', { clusterId: 'j-1' }],
  SqlBindingError: [[{ job: 'j', stage: 's', field: 'jobs[0].stages[0].sql', file: '/p/sql/j.v1.sql', line: 1, problem: 'Binder Error' }]],
};
const instanceOf = (cls: ErrorClass) => new (cls as unknown as new (...args: unknown[]) => LandfallError)(...(ARGUMENTS[cls.name] ?? ['a message']));

/** Every ErrorEquals entry of a state machine definition, Retry and Catch, nested states included. */
function errorEquals(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(errorEquals);
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, value]) => (key === 'ErrorEquals' ? (value as string[]) : errorEquals(value)));
}

const MACHINES = ['job-run', 'emr-job-run'];
const matched = new Map(
  MACHINES.map((machine) => [machine, new Set(errorEquals(JSON.parse(readFileSync(join(root, 'statemachines', `${machine}.asl.json`), 'utf8'))))]),
);
const isAws = (name: string) => AWS_ERROR_PREFIXES.some((prefix) => name.startsWith(prefix)) || (AWS_ERROR_NAMES as readonly string[]).includes(name);

describe('the error names the state machines match', () => {
  it('are AWS built-ins or on STATE_MACHINE_ERRORS', () => {
    for (const [machine, names] of matched) {
      const unknown = [...names].filter((name) => !isAws(name) && !(name in STATE_MACHINE_ERRORS));
      expect(unknown, `${machine}.asl.json matches names that are neither AWS's nor on STATE_MACHINE_ERRORS`).toEqual([]);
    }
  });

  it('are matched by exactly the state machines the list says', () => {
    for (const [name, machines] of Object.entries(STATE_MACHINE_ERRORS)) {
      expect(
        MACHINES.filter((machine) => matched.get(machine)!.has(name)),
        name,
      ).toEqual([...machines]);
    }
  });

  it('include every AWS name on the list (no stale entries)', () => {
    const all = new Set(MACHINES.flatMap((machine) => [...matched.get(machine)!]));
    for (const name of AWS_ERROR_NAMES) expect(all.has(name), name).toBe(true);
  });

  it('are each the name of a landfall error class', () => {
    for (const name of Object.keys(STATE_MACHINE_ERRORS)) {
      const cls = concrete.find((c) => c.name === name);
      expect(cls, `no error class ${name}`).toBeDefined();
      expect(cls!.prototype, name).toBeInstanceOf(LandfallError);
      expect(instanceOf(cls!).name).toBe(name);
    }
  });
});

describe('the error classes', () => {
  it('all extend LandfallError', () => {
    expect(concrete.length).toBeGreaterThanOrEqual(29);
    const outside = concrete.filter((cls) => !(cls.prototype instanceof LandfallError)).map((cls) => cls.name);
    expect(outside).toEqual([]);
  });

  it("each keeps its class's name and has a code of its own", () => {
    const codes = new Map<string, string>();
    for (const cls of concrete) {
      const err = instanceOf(cls);
      expect(err.name).toBe(cls.name);
      expect(err.code, cls.name).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
      expect(codes.get(err.code), `${cls.name} and ${codes.get(err.code)} share the code ${err.code}`).toBeUndefined();
      codes.set(err.code, cls.name);
      expect(err).toBeInstanceOf(Error);
      expect(err.stack).toContain(cls.name);
    }
  });

  it('are all imported here: every class of functions/ and shared/ that extends an error', () => {
    const files = ['functions', 'shared'].flatMap((dir) =>
      readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
        .map((entry) => join(entry.parentPath, entry.name)),
    );
    const declared = files.flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/^(export )?(abstract )?class (\w+)(?:<[^>]*>)? extends (\w*Error)\b/gm)].map((m) => ({
        file: relative(root, file),
        exported: !!m[1],
        abstract: !!m[2],
        name: m[3]!,
      })),
    );
    expect(
      declared.filter((c) => !c.exported && !c.abstract),
      'an error class that is not exported',
    ).toEqual([]);
    const known = new Set(errorClasses.map((cls) => cls.name));
    expect(declared.filter((c) => c.exported && !known.has(c.name)).map((c) => `${c.file}: ${c.name}`)).toEqual([]);
  });
});
