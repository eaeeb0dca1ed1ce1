import { InvalidSettingError, MissingSettingError } from '../../core/errors';
import { readersOf, setting } from '../../core/settings';
import type { WarehouseTarget } from './load-run';

/**
 * The warehouse from the function's settings: WAREHOUSE_WORKGROUP (Redshift Serverless) or
 * WAREHOUSE_CLUSTER_ID with WAREHOUSE_SECRET_ARN (a provisioned cluster), WAREHOUSE_DATABASE, and
 * WAREHOUSE_COPY_ROLE_ARN (the role COPY runs as).
 */
export function warehouseTargetFromEnv(env: NodeJS.ProcessEnv = process.env): WarehouseTarget {
  const workgroupName = setting('WAREHOUSE_WORKGROUP', env);
  const clusterIdentifier = setting('WAREHOUSE_CLUSTER_ID', env);
  if (!workgroupName && !clusterIdentifier) throw new MissingSettingError('WAREHOUSE_WORKGROUP (or WAREHOUSE_CLUSTER_ID)', readersOf('WAREHOUSE_WORKGROUP'));
  if (workgroupName && clusterIdentifier)
    throw new InvalidSettingError('WAREHOUSE_CLUSTER_ID', 'is set with WAREHOUSE_WORKGROUP: set one of them, not both', readersOf('WAREHOUSE_CLUSTER_ID'));
  const secretArn = setting('WAREHOUSE_SECRET_ARN', env);
  if (clusterIdentifier && !secretArn)
    throw new MissingSettingError('WAREHOUSE_SECRET_ARN (a provisioned cluster is reached with a secret)', readersOf('WAREHOUSE_SECRET_ARN'));
  return {
    database: setting('WAREHOUSE_DATABASE', env),
    ...(workgroupName ? { workgroupName } : { clusterIdentifier }),
    ...(secretArn ? { secretArn } : {}),
    copyRoleArn: setting('WAREHOUSE_COPY_ROLE_ARN', env),
  };
}
