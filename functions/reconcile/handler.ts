import { Logger } from '@aws-lambda-powertools/logger';
import { metricsLine } from '../../shared/core/alerts';
import { setting } from '../../shared/core/settings';
import { reconcileDepsFromEnv, describeRepair, reconcile, type ReconcileDeps } from '../../shared/stages/reconcile';

const logger = new Logger({ serviceName: 'landfall', persistentKeys: { stage: 'reconcile' } });
let deps: ReconcileDeps | undefined;

/** The reconciler: on its schedule (and `landfall reconcile`), finds and repairs everything stuck. */
export const handler = async () => {
  deps ??= reconcileDepsFromEnv();
  const report = await reconcile(deps);
  for (const repair of report.repairs) logger.warn('repaired', { repair: describeRepair(repair) });
  for (const late of report.pastDeadline) logger.warn('batch past its deadline', { ...late });
  // Embedded metric format: the Repairs and BatchesPastDeadline alarms watch these.
  console.log(metricsLine(setting('LANDFALL_STAGE'), { Repairs: report.repairs.length, BatchesPastDeadline: report.pastDeadline.length }));
  logger.info('reconciled', { looked: report.looked, window: report.window });
  return report;
};
