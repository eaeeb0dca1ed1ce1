/** A pipeline configuration that cannot be used; `field` names the offending path. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
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

/** A handler was started without a setting it needs (an environment variable). */
export class MissingSettingError extends Error {
  override readonly name = 'MissingSettingError';
  constructor(readonly setting: string) {
    super(`missing setting: environment variable ${setting} is not set`);
  }
}

/** An S3 event record that does not have the shape AWS sends. */
export class MalformedEventError extends Error {
  override readonly name = 'MalformedEventError';
}

export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (!value) throw new MissingSettingError(name);
  return value;
}
