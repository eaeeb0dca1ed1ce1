import { join } from 'node:path';
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import { describe, expect, it } from 'vitest';

/**
 * The rules of .dependency-cruiser.cjs (run over the real tree by `npm run lint`) each catch what
 * they are for: test/fixtures/import-rules breaks every rule once, and nothing else.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURE = join(ROOT, 'test', 'fixtures', 'import-rules');

async function violations(): Promise<string[]> {
  const { default: ruleSet } = (await import(join(ROOT, '.dependency-cruiser.cjs'))) as { default: { forbidden: unknown[]; options: Record<string, unknown> } };
  const result = await cruise(['shared', 'functions', 'ops', 'examples'], {
    baseDir: FIXTURE,
    ruleSet: { forbidden: ruleSet.forbidden } as never,
    validate: true,
    tsPreCompilationDeps: true,
  });
  const output = result.output as ICruiseResult;
  return output.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();
}

describe('the import rules', () => {
  it('catch a cycle, core importing a stage, a stage or a handler past an index, the engine importing the CLI, the tools importing a sample', async () => {
    expect(await violations()).toEqual([
      'core-never-imports-a-stage: shared/core/leak.ts → shared/stages/alpha/index.ts',
      'engine-stays-out-of-the-tools: functions/fn/handler.ts → ops/cli.ts',
      'entry-points-use-the-public-surface: functions/fn/handler.ts → shared/stages/alpha/internal.ts',
      'no-circular: shared/core/one.ts → shared/core/two.ts',
      'no-samples-in-the-tools: ops/cli.ts → examples/demo/sample.ts',
      'stages-meet-at-their-index: shared/stages/beta/use.ts → shared/stages/alpha/internal.ts',
    ]);
  });
});
