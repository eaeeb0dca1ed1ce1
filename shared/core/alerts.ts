import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';

/** One message on the alerts topic (job failures, deadline misses, repairs): a subject an on-call reads first. */
export interface Alert {
  kind: 'job-failed' | 'past-deadline' | 'repaired' | 'schema-changed' | 'checks-warned';
  subject: string;
  detail: Record<string, unknown>;
}

export async function publishAlert(sns: SNSClient, topicArn: string, alert: Alert): Promise<void> {
  await sns.send(
    new PublishCommand({
      TopicArn: topicArn,
      // SNS subjects: ASCII, no line breaks, at most 100 characters
      Subject: alert.subject.replace(/[^\x20-\x7e]/g, '?').slice(0, 100),
      Message: JSON.stringify({ kind: alert.kind, ...alert.detail }, null, 2),
      MessageAttributes: { kind: { DataType: 'String', StringValue: alert.kind } },
    }),
  );
}

/**
 * A CloudWatch Embedded Metric Format line: Lambda ships it to CloudWatch Logs, which turns it into
 * metrics (namespace `landfall`, dimension Stage) with no API call and no extra permission. The
 * alarms in serverless.yml watch these.
 */
export function metricsLine(stage: string, metrics: Record<string, number>, at = new Date()): string {
  return JSON.stringify({
    _aws: {
      Timestamp: at.getTime(),
      CloudWatchMetrics: [{ Namespace: 'landfall', Dimensions: [['Stage']], Metrics: Object.keys(metrics).map((Name) => ({ Name, Unit: 'Count' })) }],
    },
    Stage: stage,
    ...metrics,
  });
}

/**
 * An EMF line of a job's output checks (docs/checks.md): namespace `landfall`, dimensions Stage and
 * Job; `OutputChecksPassRate` (Percent: checks passed of checks run), `OutputChecksFailed` and
 * `OutputChecksRun` (Count). Logged by the transform each time a run's checks run.
 */
export function checkMetricsLine(stage: string, job: string, results: { passed: boolean }[], at = new Date()): string {
  const passed = results.filter((r) => r.passed).length;
  return JSON.stringify({
    _aws: {
      Timestamp: at.getTime(),
      CloudWatchMetrics: [
        {
          Namespace: 'landfall',
          Dimensions: [['Stage', 'Job']],
          Metrics: [
            { Name: 'OutputChecksPassRate', Unit: 'Percent' },
            { Name: 'OutputChecksFailed', Unit: 'Count' },
            { Name: 'OutputChecksRun', Unit: 'Count' },
          ],
        },
      ],
    },
    Stage: stage,
    Job: job,
    OutputChecksPassRate: results.length === 0 ? 100 : (100 * passed) / results.length,
    OutputChecksFailed: results.length - passed,
    OutputChecksRun: results.length,
  });
}
