import { s3Client, snsClient } from '../../shared/core/aws/clients';
import { setting } from '../../shared/core/settings';
import { runJobStep, type JobStepDeps, type JobStepRequest } from '../../shared/stages/orchestrate';
import { resolverDepsFromEnv } from '../../shared/stages/resolve';

let deps: JobStepDeps | undefined;

/** The job run's bookkeeping states: start, checkpoint, succeed, next-generation, fail, notify. */
export const handler = async (request: JobStepRequest) => {
  if (!deps) {
    const resolver = resolverDepsFromEnv();
    deps = {
      runs: resolver.runs,
      resolver,
      sns: snsClient(),
      s3: s3Client(),
      lakeBucket: setting('LAKE_BUCKET'),
      failureTopicArn: setting('FAILURE_TOPIC_ARN'),
    };
  }
  return runJobStep(request, deps);
};
