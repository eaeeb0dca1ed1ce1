import type { StateMachineErrorName } from './error-names';

/**
 * The base of every landfall error. `name` is the class's own: Lambda reports it as the error type,
 * and a state machine's Retry or Catch may match it (see error-names.ts). `code` names the kind of
 * failure for programs and alarms that must not depend on a message's words.
 */
export abstract class LandfallError extends Error {
  /** the class's name, never changed: a state machine may match it, and logs and alarms search for it */
  abstract override readonly name: string;
  /** one per class, UPPER_SNAKE_CASE, unique across landfall; never changed once released */
  abstract readonly code: string;
}

/** A pipeline configuration that cannot be used; `field` names the offending path. */
export class ConfigError extends LandfallError {
  override readonly name = 'ConfigError';
  readonly code = 'CONFIG_INVALID';
  constructor(
    readonly field: string,
    readonly problem: string,
    /** the configuration file, once known */
    readonly file?: string,
  ) {
    super(`invalid pipeline configuration${file ? ` ${file}` : ''}: ${field}: ${problem}`);
  }

  /** The same error, naming the file it is in. */
  inFile(file: string): ConfigError {
    return this.file ? this : new ConfigError(this.field, this.problem, file);
  }
}

/** " (needed by the function load)", when the functions are known. */
function byFunctions(verb: string, functions: readonly string[]): string {
  if (functions.length === 0) return '';
  return ` (${verb} by the function${functions.length > 1 ? 's' : ''} ${functions.join(', ')})`;
}

/** A handler was started without a setting it needs (an environment variable); `functions` are the ones that read it. */
export class MissingSettingError extends LandfallError {
  override readonly name = 'MissingSettingError';
  readonly code = 'SETTING_MISSING';
  constructor(
    readonly setting: string,
    readonly functions: readonly string[] = [],
  ) {
    super(`missing setting: environment variable ${setting} is not set${byFunctions('needed', functions)}`);
  }
}

/** A setting (an environment variable) whose value cannot be read as its type: not a number, not JSON, … */
export class InvalidSettingError extends LandfallError {
  override readonly name = 'InvalidSettingError';
  readonly code = 'SETTING_INVALID';
  constructor(
    readonly setting: string,
    /** e.g. "is not a number: 'ten'" */
    readonly problem: string,
    readonly functions: readonly string[] = [],
  ) {
    super(`invalid setting: environment variable ${setting} ${problem}${byFunctions('read', functions)}`);
  }
}

/** An S3 event record that does not have the shape AWS sends. */
export class MalformedEventError extends LandfallError {
  override readonly name = 'MalformedEventError';
  readonly code = 'EVENT_MALFORMED';
}

/** A passing failure (a dependency briefly unavailable): every task of both state machines retries it with backoff. */
export class TransientError extends LandfallError {
  override readonly name = 'TransientError' satisfies StateMachineErrorName;
  readonly code = 'TRANSIENT';
}
