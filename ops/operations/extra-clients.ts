import { existsSync, readFileSync } from 'node:fs';
import { EMRClient } from '@aws-sdk/client-emr';
import { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { LOCAL_WAREHOUSE_WORKGROUP } from '../../local/stack';
import { warehouseTargetFromEnv } from '../../shared/stages/load';
import type { Target } from '../targets';
import { STACK_FILE } from './target';

/*
 * The clients the Target does not carry: EMR (the recovery view's clusters) and the Redshift Data
 * API (the load audit). Built like the Target's own, with its region and credentials; the
 * endpoint is the SDK's AWS_ENDPOINT_URL_<SERVICE> when set (the local stack sets it in its
 * process), else the running local stack's (its stack file) when the Target is that stack, else AWS.
 */

/** The warehouse as the console reads it: a Data API client and where the loads go, or why it cannot. */
export type WarehouseReader =
  | { client: RedshiftDataClient; database: string; workgroupName?: string; clusterIdentifier?: string; secretArn?: string }
  | { unavailable: string };

interface StackEndpoints {
  emr?: string;
  redshiftData?: string;
}

/** The local stack's endpoints when the Target is the stack `landfall up` recorded (same tables). */
function localEndpoints(target: Pick<Target, 'names'>, stackFile: string): StackEndpoints | undefined {
  if (!existsSync(stackFile)) return undefined;
  const info = JSON.parse(readFileSync(stackFile, 'utf8')) as { names?: { jobRunsTable?: string }; endpoints?: StackEndpoints };
  return info.names?.jobRunsTable === target.names.jobRunsTable ? info.endpoints : undefined;
}

const baseConfig = (target: Pick<Target, 's3'>) => ({ region: target.s3.config.region, credentials: target.s3.config.credentials });

/** One of each per Target: a console serves many pages over the same clients. */
const emrClients = new WeakMap<object, EMRClient>();
const warehouses = new WeakMap<object, WarehouseReader>();

export function emrClientOf(target: Pick<Target, 's3' | 'names'>, stackFile = STACK_FILE): EMRClient {
  let client = emrClients.get(target);
  if (!client) {
    const endpoint = process.env.AWS_ENDPOINT_URL_EMR ? undefined : localEndpoints(target, stackFile)?.emr;
    client = new EMRClient({ ...baseConfig(target), ...(endpoint ? { endpoint } : {}) });
    emrClients.set(target, client);
  }
  return client;
}

/**
 * The warehouse the loads write: on the local stack its stand-in; elsewhere the load function's
 * settings (WAREHOUSE_WORKGROUP or WAREHOUSE_CLUSTER_ID with WAREHOUSE_SECRET_ARN, and
 * WAREHOUSE_DATABASE) as the operator's environment gives them.
 */
export function warehouseOf(target: Pick<Target, 's3' | 'names'>, stackFile = STACK_FILE): WarehouseReader {
  let reader = warehouses.get(target);
  if (!reader) {
    reader = newWarehouseReader(target, stackFile);
    warehouses.set(target, reader);
  }
  return reader;
}

function newWarehouseReader(target: Pick<Target, 's3' | 'names'>, stackFile: string): WarehouseReader {
  const local = process.env.AWS_ENDPOINT_URL_REDSHIFT_DATA ? undefined : localEndpoints(target, stackFile)?.redshiftData;
  if (local) return { client: new RedshiftDataClient({ ...baseConfig(target), endpoint: local }), database: 'dev', workgroupName: LOCAL_WAREHOUSE_WORKGROUP };
  try {
    const { database, workgroupName, clusterIdentifier, secretArn } = warehouseTargetFromEnv({ WAREHOUSE_COPY_ROLE_ARN: 'unused', ...process.env });
    return {
      client: new RedshiftDataClient(baseConfig(target)),
      database,
      ...(workgroupName ? { workgroupName } : {}),
      ...(clusterIdentifier ? { clusterIdentifier } : {}),
      ...(secretArn ? { secretArn } : {}),
    };
  } catch (err) {
    return { unavailable: `the warehouse is not named for the console (${(err as Error).message})` };
  }
}
