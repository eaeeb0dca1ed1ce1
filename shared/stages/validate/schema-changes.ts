import { createHash } from 'node:crypto';
import type { SNSClient } from '@aws-sdk/client-sns';
import { publishAlert } from '../../core/alerts';
import type { DatasetConfig } from '../../core/config/types';
import { keepsExtraColumns, keptColumnsOf } from '../../core/feeds/extra-columns';
import type { FileReport } from '../../core/state/file-state';
import type { FileStateStore } from '../../core/state/file-state-store';

/** A change of a dataset's columns a file shows: `signature` tells one change from another. */
export interface SchemaChange {
  signature: string;
  /** what changed, for the alert */
  change: string;
  /** breaking: the file was rejected for it; additive: its new columns were kept (or ignored when no legal name) */
  breaking: boolean;
}

const digest = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 20);

/**
 * The schema change a file's report shows, if any: columns a header added (schemaPolicy additive:
 * ignored, listed on the report), or a file rejected because its columns are not the dataset's (a
 * required column gone, a Parquet type that does not convert, a header that is not the declared one).
 */
export function schemaChangeOf(report: FileReport, mismatch: string | undefined, dataset?: DatasetConfig): SchemaChange | null {
  if (mismatch !== undefined) return { signature: `breaking:${digest(mismatch)}`, change: mismatch, breaking: true };
  if (report.state === 'REJECTED' && report.reason?.startsWith('missing or wrong header')) {
    // the header found, not the line it was on, says which change it is
    const found = report.reason.slice(report.reason.indexOf('found'));
    return { signature: `header:${digest(found)}`, change: report.reason, breaking: true };
  }
  if (report.extraColumns && report.extraColumns.length > 0) {
    const columns = [...report.extraColumns].sort();
    const { kept, ignored } = keptColumnsOf(dataset?.columns ?? [], dataset && keepsExtraColumns(dataset) ? columns : []);
    const skipped = dataset && keepsExtraColumns(dataset) ? ignored : columns;
    const parts = [
      ...(kept.length > 0 ? [`kept as string: ${kept.map((k) => (k.name === k.header ? k.name : `${k.header} as ${k.name}`)).join(', ')}`] : []),
      ...(skipped.length > 0
        ? [`ignored: ${skipped.join(', ')}; declare ${skipped.length > 1 ? 'them' : 'it'}, nullable, to keep ${skipped.length > 1 ? 'them' : 'it'}`]
        : []),
    ];
    return {
      signature: `added:${digest(columns.join('\u0000'))}`,
      change: `files hold the column${columns.length > 1 ? 's' : ''} ${columns.join(', ')}, which the dataset does not declare (${parts.join('; ')})`,
      breaking: false,
    };
  }
  return null;
}

export interface SchemaAlerts {
  sns: SNSClient;
  topicArn: string;
}

/**
 * One alert per dataset and schema change: the first file to show a change records it (a
 * conditional write) and the alert goes out; later files showing the same change stay quiet.
 */
export async function alertSchemaChange(report: FileReport, change: SchemaChange, store: FileStateStore, alerts: SchemaAlerts): Promise<boolean> {
  const dataset = report.dataset ?? '(none)';
  if (!(await store.schemaChangeDue(dataset, change.signature, { key: report.source.key, change: change.change }))) return false;
  await publishAlert(alerts.sns, alerts.topicArn, {
    kind: 'schema-changed',
    subject: `landfall: dataset ${dataset} ${change.breaking ? 'changed its columns (files rejected)' : 'gained columns'}`,
    detail: { dataset, change: change.change, breaking: change.breaking, firstFile: report.source.key, versionId: report.source.versionId ?? null },
  });
  await store.schemaChangeAlerted(dataset, change.signature);
  return true;
}
