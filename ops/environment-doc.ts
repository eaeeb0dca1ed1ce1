/**
 * docs/environment.md, generated from the settings table (shared/core/settings.ts): every environment variable,
 * then each function's. `npm run docs:env` (`npx tsx ops/environment-doc.ts`) rewrites the
 * file; `-- --check` only says whether it is up to date. No handler imports this module.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FUNCTIONS, SETTINGS, type SetBy, type SettingSpec } from '../shared/core/settings';
import { writeOrCheck } from './generated-file';

export const ENVIRONMENT_DOC_FILE = resolve(import.meta.dirname, '../docs/environment.md');

/** The "Set by" column, and what each entry means. */
const SET_BY: Record<SetBy, [string, string]> = {
  provider: ['serverless.yml (all)', 'the provider\'s `environment`, so every function has it; "Read by" says which use it'],
  function: ['serverless.yml', 'the `environment` of each function under "Read by"'],
  local: ['local stack', 'only the local stack sets it; a deployment leaves it unset'],
  aws: ['Lambda', 'the Lambda runtime'],
  operator: ['you', "nobody by default; add it to the function's `environment` in serverless.yml to change the default"],
};

/** Text for one table cell: one line, pipes escaped. */
const cell = (text: string) => text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');

function whenUnset(spec: SettingSpec): string {
  if (spec.readBy) return '';
  if (spec.required) return '**required**';
  if (spec.default !== undefined) return `\`${spec.default}\``;
  return spec.unset ?? '';
}

function readers(spec: SettingSpec): string {
  const functions = spec.functions.length === FUNCTIONS.length ? 'all' : spec.functions.join(', ');
  return spec.readBy ? `${spec.readBy} (${functions})` : functions;
}

const entries = () => Object.entries(SETTINGS as Record<string, SettingSpec>);

/** The whole Markdown file. */
export function environmentDoc(): string {
  const lines = [
    '# Environment variables',
    '',
    'Generated from the settings table in [shared/core/settings.ts](../shared/core/settings.ts) by `npm run docs:env`: edit the table, not this file.',
    '',
    "The functions' deployment settings. The code reads them only through `setting()` of that module, which parses each as its type:",
    'unset and empty are the same (the default, or for a required one a `MissingSettingError`), and a value that is not its type',
    '(a number, `true`/`false`, JSON) is an `InvalidSettingError`; both errors name the variable and the functions that read it.',
    'A test (test/unit/settings.test.ts) checks that serverless.yml sets exactly these variables on exactly these functions.',
    '',
    'Set by:',
    '',
    ...Object.values(SET_BY).map(([short, text]) => `- ${short}: ${text}`),
    '',
    'The AWS SDK also reads its own standard variables (the credentials, `AWS_REGION`, `AWS_ENDPOINT_URL_<SERVICE>`, which the local',
    "stack points at its stand-ins); they are listed here only where landfall's code reads them.",
    '',
    '## Variables',
    '',
    '| Variable | Type | Read by | Set by | Unset | Meaning |',
    '| --- | --- | --- | --- | --- | --- |',
    ...entries().map(
      ([name, spec]) => `| \`${name}\` | ${spec.type} | ${cell(readers(spec))} | ${SET_BY[spec.setBy][0]} | ${cell(whenUnset(spec))} | ${cell(spec.meaning)} |`,
    ),
    '',
    '## By function',
    '',
    'What each function reads (required ones in bold), libraries included.',
    '',
  ];
  for (const fn of FUNCTIONS) {
    const names = entries()
      .filter(([, spec]) => spec.functions.includes(fn))
      .map(([name, spec]) => (spec.required ? `**\`${name}\`**` : `\`${name}\``));
    lines.push(`- ${fn}: ${names.join(', ')}`);
  }
  lines.push('');
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const text = environmentDoc();
  writeOrCheck(ENVIRONMENT_DOC_FILE, text, 'npm run docs:env');
}
