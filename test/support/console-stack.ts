import { PutObjectCommand } from '@aws-sdk/client-s3';
import { startConsole, type RunningConsole } from '../../ops/console/server';
import { operatorIdentity } from '../../ops/operations/operator';
import type { Target } from '../../ops/targets';
import type { LocalStack } from '../../local/stack';
import { s3Client } from '../../shared/core/aws/clients';
import { loadPipeline } from '../../shared/core/config/load-config';
import { PREFIX } from '../../shared/core/s3/layout';

export { stackTarget } from './stack-target';

/** The console served in-process over a target (any free port), the local user acting. */
export const startStackConsole = (target: Target, options: { readOnly?: boolean } = {}): Promise<RunningConsole> =>
  startConsole({ target, pipeline: loadPipeline(), port: 0, operator: () => operatorIdentity(), ...options });

/** The error a run meets while the lake refuses curated writes. */
export const LAKE_AWAY = 'LakeAway';

/**
 * Runs `work` while the lake refuses every write under curated/ (the in-process handlers share
 * this S3 client), so a job run started meanwhile fails with a LAKE_AWAY error.
 */
export async function withCuratedWritesRefused<T>(work: () => Promise<T>): Promise<T> {
  const name = 'consoleFailCurated';
  s3Client().middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Key?: string };
      if (context.commandName === 'PutObjectCommand' && input.Key?.startsWith('curated/'))
        throw Object.assign(new Error('the lake is away'), { name: LAKE_AWAY });
      return next(args);
    },
    { step: 'initialize', name },
  );
  try {
    return await work();
  } finally {
    s3Client().middlewareStack.remove(name);
  }
}

/** Puts files (key under landing/ → body) on the stack's raw bucket, then waits until the pipeline has settled, runs included. */
export async function landAll(stack: LocalStack, files: Record<string, string>): Promise<void> {
  for (const [key, body] of Object.entries(files))
    await stack.s3.send(new PutObjectCommand({ Bucket: stack.deployment.names.rawBucket, Key: `${PREFIX.landing}${key}`, Body: body }));
  await stack.settled(400);
}
