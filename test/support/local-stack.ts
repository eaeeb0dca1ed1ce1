import { afterAll, beforeAll } from 'vitest';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { PREFIX } from '../../shared/core/s3/layout';
import { startLocalStack, type LocalStack, type StackOptions } from '../../local/stack';

/** One local stack (DynamoDB Local + MinIO + the real handlers) per test file. */
export function useLocalStack(options: StackOptions = {}): () => LocalStack {
  let stack: LocalStack | undefined;
  beforeAll(async () => {
    stack = await startLocalStack({ retryDelaysMs: [50, 100], ...options });
  });
  afterAll(async () => {
    await stack?.stop();
  });
  return () => {
    if (!stack) throw new Error('the local stack did not start');
    return stack;
  };
}

/** Puts one object under landing/ and waits until the pipeline has settled; returns its versionId. */
export async function landAndSettle(stack: LocalStack, relativeKey: string, body: string | Uint8Array): Promise<string> {
  const out = await stack.s3.send(new PutObjectCommand({ Bucket: stack.deployment.names.rawBucket, Key: `${PREFIX.landing}${relativeKey}`, Body: body }));
  await stack.lambdas.settled(400);
  return out.VersionId!;
}
