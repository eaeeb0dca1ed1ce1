import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { COMMANDS, type CommandSpec } from '../../ops/commands';
import { DEFAULT_PIPELINE_FILE } from '../../local/pipeline-file';
import { cli, keepConfigEnv } from '../support/run-cli';

const NAMES = Object.keys(COMMANDS) as Array<keyof typeof COMMANDS>;

// a command's help reads the pipeline of LANDFALL_CONFIG_FILE (the default's when unset)
keepConfigEnv({ beforeEach, afterEach });

describe('landfall --help', () => {
  it('lists every command, with or without --help; no command at all is exit 2', async () => {
    const help = await cli('--help');
    expect(help.status).toBe(0);
    for (const name of NAMES) expect(help.stdout).toContain(`  landfall ${name}`);
    expect(help.stdout).toContain('landfall <command> --help');
    expect(await cli('-h')).toEqual(help);
    expect(await cli('help')).toEqual(help);
    const bare = await cli();
    expect(bare.status).toBe(2);
    expect(bare.stdout).toBe(help.stdout);
  });

  it('names the default pipeline from its one constant', async () => {
    const root = relative(join(import.meta.dirname, '..', '..'), DEFAULT_PIPELINE_FILE);
    expect((await cli('--help')).stdout.replace(/\s+/g, ' ')).toContain(`default: ${root}`);
    expect((await cli('config', '--help')).stdout.replace(/\s+/g, ' ')).toContain(`else the samples' ${root})`);
  });
});

describe('landfall <command> --help', () => {
  it.each(NAMES)('%s: its usage line, what it does and every option with its default or "required"', async (name) => {
    const spec: CommandSpec = COMMANDS[name];
    const help = await cli(name, '--help');
    expect(help.status, help.stderr).toBe(0);
    expect(help.stderr).toBe('');
    const lines = help.stdout.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^usage: landfall ${name}\\b`));
    expect(help.stdout).toContain(spec.description.slice(0, 40));
    const options = help.stdout.slice(help.stdout.indexOf('\noptions:\n'));
    // the usage runs up to the first blank line (a long one wraps)
    const usage = help.stdout.slice(0, help.stdout.indexOf('\n\n'));
    for (const [option, o] of Object.entries(spec.options)) {
      expect(usage).toContain(`--${option}`);
      // the option's entry runs up to the next option
      const entry = options
        .slice(options.indexOf(`\n  --${option}`) + 1)
        .split(/\n {2}-/)[0]!
        .replace(/\s+/g, ' ');
      expect(entry, option).toMatch(o.required ? /\(required\)$/ : /\(default: .+\)$/);
    }
    expect(options).toContain('-h, --help');
    // -h and `landfall help <command>` print the same
    expect(await cli(name, '-h')).toEqual(help);
    expect(await cli('help', name)).toEqual(help);
  });

  it('wins over anything else on the line: nothing runs, no option is checked', async () => {
    const help = await cli('run', '--help');
    expect(await cli('run', '--input', '/nowhere', '--bogus', '--help')).toEqual(help);
  });

  it('of an unknown command: exit 2, naming it', async () => {
    const result = await cli('help', 'fly');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('unknown command "fly"');
  });
});

describe('a bad command line', () => {
  it.each(NAMES)('%s: an option it does not take is exit 2, naming the option and pointing at its help', async (name) => {
    const result = await cli(name, '--no-such-option');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`unknown option --no-such-option for \`landfall ${name}\``);
    expect(result.stderr).toContain(`see \`landfall ${name} --help\``);
  });

  it("names another command's option as unknown too, and lists the ones the command takes", async () => {
    const result = await cli('land', 'dir', '--config', 'x.yaml');
    expect(result).toMatchObject({ status: 2, stdout: '' });
    expect(result.stderr).toBe('landfall: unknown option --config for `landfall land` (it takes no options); see `landfall land --help`\n');
    expect((await cli('demo', '-x')).stderr).toContain('unknown option -x for `landfall demo` (it takes --config, --seed, --days, --rows)');
  });

  it('an option without its value, a flag with one, or a word too many: exit 2 with the help to read', async () => {
    expect(await cli('run', '--out', 'x', '--input')).toMatchObject({
      status: 2,
      stderr: 'landfall: --input needs a value (--input DIR); see `landfall run --help`\n',
    });
    expect(await cli('replay', '--force=yes')).toMatchObject({ status: 2, stderr: expect.stringContaining('see `landfall replay --help`') });
    expect(await cli('status', 'now')).toMatchObject({
      status: 2,
      stderr: 'landfall: `landfall status` takes no arguments, got "now"; see `landfall status --help`\n',
    });
    expect(await cli('land', 'a', 'b')).toMatchObject({ status: 2, stderr: expect.stringContaining('`landfall land` takes one DIR, got "a" "b"') });
  });

  it('an unknown command: exit 2 with the global help', async () => {
    const result = await cli('fly');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('unknown command "fly"');
    expect(result.stderr).toContain('landfall <command> --help');
  });
});
