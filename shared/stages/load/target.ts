import { MissingSettingError, requireEnv } from '../../core/errors';
import type { WarehouseTarget } from './load-run';

/**
 * The warehouse from the function's settings: WAREHOUSE_WORKGROUP (Redshift Serverless) or
 * WAREHOUSE_CLUSTER_ID with WAREHOUSE_SECRET_ARN (a provisioned cluster), WAREHOUSE_DATABASE, and
 * WAREHOUSE_COPY_ROLE_ARN (the role COPY runs as).
 */
export function warehouseTargetFromEnv(env: NodeJS.ProcessEnv = process.env): WarehouseTarget {
  const workgroupName = env.WAREHOUSE_WORKGROUP || undefined;
  const clusterIdentifier = env.WAREHOUSE_CLUSTER_ID || undefined;
  if (!workgroupName && !clusterIdentifier) throw new MissingSettingError('WAREHOUSE_WORKGROUP (or WAREHOUSE_CLUSTER_ID)');
  if (workgroupName && clusterIdentifier) throw new Error('set WAREHOUSE_WORKGROUP or WAREHOUSE_CLUSTER_ID, not both');
  const secretArn = env.WAREHOUSE_SECRET_ARN || undefined;
  if (clusterIdentifier && !secretArn) throw new MissingSettingError('WAREHOUSE_SECRET_ARN (a provisioned cluster is reached with a secret)');
  return {
    database: requireEnv('WAREHOUSE_DATABASE', env),
    ...(workgroupName ? { workgroupName } : { clusterIdentifier }),
    ...(secretArn ? { secretArn } : {}),
    copyRoleArn: requireEnv('WAREHOUSE_COPY_ROLE_ARN', env),
  };
}
