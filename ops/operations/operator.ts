import { hostname, userInfo } from 'node:os';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';

const localUser = () => `${userInfo().username}@${hostname()}`;

/**
 * Who acts, for the audit of actions: on a deployed stage the AWS principal of the operator's
 * credentials (STS GetCallerIdentity), on the local stack the OS user. When STS cannot answer
 * (no STS endpoint reachable) the action is still recorded, under the OS user and why.
 */
export async function operatorIdentity(stage?: { region?: string }): Promise<string> {
  if (!stage) return `${localUser()} (local user)`;
  const sts = new STSClient(stage.region ? { region: stage.region } : {});
  try {
    const me = await sts.send(new GetCallerIdentityCommand({}));
    return me.Arn ?? `account ${me.Account ?? '?'}`;
  } catch (err) {
    return `${localUser()} (local user: STS GetCallerIdentity failed, ${(err as Error).name})`;
  } finally {
    sts.destroy();
  }
}
