import { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { loadCatalog } from '../../shared/core/catalog/catalog-file';
import { loadPipeline } from '../../shared/core/config/load-config';
import type { RunInput } from '../../shared/core/runs/run-input';
import { setting } from '../../shared/core/settings';
import { pollLoad, submitLoad, type LoadDeps, type LoadState, warehouseTargetFromEnv } from '../../shared/stages/load';

let deps: LoadDeps | undefined;

/** The warehouse load of a job run: submit (one transaction per batch) and poll, called by both state machines. */
export const handler = async (request: { action: 'submit' | 'poll'; run: RunInput; load: LoadState }): Promise<LoadState> => {
  deps ??= {
    redshift: new RedshiftDataClient({}),
    pipeline: loadPipeline(),
    tables: loadCatalog(),
    target: warehouseTargetFromEnv(),
    lakeBucket: setting('LAKE_BUCKET'),
    backoffBaseSeconds: setting('WAREHOUSE_BACKOFF_BASE_SECONDS'),
    maxAttempts: setting('WAREHOUSE_MAX_ATTEMPTS'),
  };
  return request.action === 'submit' ? submitLoad(request.run, request.load, deps) : pollLoad(request.run, request.load, deps);
};
