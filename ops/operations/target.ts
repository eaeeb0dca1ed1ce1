import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../local/stack';
import { usePipelineFile } from '../../local/pipeline-file';
import type { Values } from '../commands';
import { STACK_FILE_NAME, localTarget, stageTarget, type Target } from '../targets';

export const STACK_FILE = join(PROJECT_ROOT, STACK_FILE_NAME);

/**
 * `--stage S` names a deployed stage; without it, the running local stack. The pipeline is the
 * one --config names, else the one the running stack was started with (`landfall up --config`).
 */
export async function targetOf(values: Values, stackFile = STACK_FILE): Promise<Target> {
  if (values.stage) {
    usePipelineFile(values.config as string | undefined);
    return stageTarget(PROJECT_ROOT, values.stage as string, values.region as string | undefined);
  }
  const local = await localTarget(stackFile);
  const started = existsSync(stackFile) ? (JSON.parse(await readFile(stackFile, 'utf8')) as { pipelineFile?: string }).pipelineFile : undefined;
  usePipelineFile((values.config as string | undefined) ?? started);
  return local;
}
