import { hostname, userInfo } from 'node:os';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';

/**
 * Who acts, for the audit of actions: on a deployed stage the AWS principal of the operator's
 * credentials (STS GetCallerIdentity), on the local stack the OS user.
 */
export async function operatorIdentity(stage?: { region?: string }): Promise<string> {
  if (!stage) return `${userInfo().username}@${hostname()} (local user)`;
  const sts = new STSClient(stage.region ? { region: stage.region } : {});
  try {
    const me = await sts.send(new GetCallerIdentityCommand({}));
    return me.Arn ?? `account ${me.Account ?? '?'}`;
  } finally {
    sts.destroy();
  }
}
