import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalStack } from '../../local/stack';
import { localTarget, stackFileOf, type Target } from '../../ops/targets';

/**
 * The operator commands' target for a test's own stack: what `landfall up` records (the stack file),
 * written for this process's stack, so a command talks to it as the CLI would.
 */
export async function stackTarget(stack: LocalStack): Promise<Target> {
  const stackFile = join(await mkdtemp(join(tmpdir(), 'landfall-stack-target-')), 'stack.json');
  await writeFile(stackFile, JSON.stringify(stackFileOf(stack)));
  return localTarget(stackFile);
}
