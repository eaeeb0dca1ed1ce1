import { describe, expect, it } from 'vitest';
import { InvalidSettingError, MissingSettingError } from '../../shared/core/errors';
import { warehouseTargetFromEnv } from '../../shared/stages/load/target';
import { thrown } from '../support/thrown';

/* shared/stages/load/target.ts: the warehouse a load function writes to, from its settings. */

const serverless = { WAREHOUSE_WORKGROUP: 'analytics', WAREHOUSE_DATABASE: 'dev', WAREHOUSE_COPY_ROLE_ARN: 'arn:aws:iam::000000000000:role/copy' };
const provisioned = {
  WAREHOUSE_CLUSTER_ID: 'warehouse-1',
  WAREHOUSE_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:wh',
  WAREHOUSE_DATABASE: 'dev',
  WAREHOUSE_COPY_ROLE_ARN: 'arn:aws:iam::000000000000:role/copy',
};

function missing(env: NodeJS.ProcessEnv): MissingSettingError {
  return thrown(MissingSettingError, () => warehouseTargetFromEnv(env));
}

describe('the warehouse target', () => {
  it('reaches Redshift Serverless by its workgroup, without a secret', () => {
    expect(warehouseTargetFromEnv(serverless)).toEqual({ database: 'dev', workgroupName: 'analytics', copyRoleArn: serverless.WAREHOUSE_COPY_ROLE_ARN });
  });

  it('reaches a provisioned cluster with its secret', () => {
    expect(warehouseTargetFromEnv(provisioned)).toEqual({
      database: 'dev',
      clusterIdentifier: 'warehouse-1',
      secretArn: provisioned.WAREHOUSE_SECRET_ARN,
      copyRoleArn: provisioned.WAREHOUSE_COPY_ROLE_ARN,
    });
  });

  it('passes a secret on to a workgroup too', () => {
    expect(warehouseTargetFromEnv({ ...serverless, WAREHOUSE_SECRET_ARN: 'arn:s' })).toMatchObject({ workgroupName: 'analytics', secretArn: 'arn:s' });
  });

  it('names the setting that is missing', () => {
    expect(missing({}).setting).toMatch(/^WAREHOUSE_WORKGROUP \(or WAREHOUSE_CLUSTER_ID\)/);
    expect(missing({ ...provisioned, WAREHOUSE_SECRET_ARN: undefined }).setting).toMatch(/^WAREHOUSE_SECRET_ARN/);
    expect(missing({ ...serverless, WAREHOUSE_DATABASE: undefined }).setting).toBe('WAREHOUSE_DATABASE');
    expect(missing({ ...serverless, WAREHOUSE_COPY_ROLE_ARN: undefined }).setting).toBe('WAREHOUSE_COPY_ROLE_ARN');
  });

  it('takes an empty setting as unset (a blank variable in a template)', () => {
    expect(missing({ ...serverless, WAREHOUSE_WORKGROUP: '' }).setting).toMatch(/^WAREHOUSE_WORKGROUP/);
    expect(warehouseTargetFromEnv({ ...provisioned, WAREHOUSE_WORKGROUP: '' })).toMatchObject({ clusterIdentifier: 'warehouse-1' });
    expect(warehouseTargetFromEnv({ ...provisioned, WAREHOUSE_WORKGROUP: '' })).not.toHaveProperty('workgroupName');
    expect(missing({ ...provisioned, WAREHOUSE_SECRET_ARN: '' }).setting).toMatch(/^WAREHOUSE_SECRET_ARN/);
    expect(missing({ ...serverless, WAREHOUSE_DATABASE: '' }).setting).toBe('WAREHOUSE_DATABASE');
  });

  it('refuses a workgroup and a cluster together, as an invalid setting', () => {
    let error: unknown;
    try {
      warehouseTargetFromEnv({ ...provisioned, WAREHOUSE_WORKGROUP: 'analytics' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidSettingError);
    expect((error as Error).message).toMatch(/WAREHOUSE_WORKGROUP/);
    expect((error as Error).message).toMatch(/WAREHOUSE_CLUSTER_ID/);
    expect((error as Error).message).toMatch(/not both/);
  });
});
