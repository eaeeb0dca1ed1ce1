import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** A target the issue sets, and whether this run met it. */
export interface Target {
  metric: string;
  target: string;
  actual: string;
  met: boolean;
  note?: string;
}

export interface Table {
  header: string[];
  rows: Array<Array<string | number>>;
}

/** What one suite reports: its tables for the Markdown, its targets, and its raw figures. */
export interface SuiteResult {
  id: string;
  title: string;
  tables: Table[];
  targets: Target[];
  notes?: string[];
  data: Record<string, unknown>;
  seconds?: number;
  /** when the suite ran (a partial run keeps the other suites' earlier results) */
  measuredAt?: string;
}

export interface BenchReport {
  mode: 'full' | 'quick';
  startedAt: string;
  seconds: number;
  machine: { cpus: number; memoryGiB: number; node: string; platform: string };
  suites: SuiteResult[];
}

export function renderTable(table: Table): string {
  const line = (cells: Array<string | number>) => `| ${cells.map((c) => String(c).replaceAll('|', '\\|')).join(' | ')} |`;
  return [line(table.header), line(table.header.map(() => '---')), ...table.rows.map(line)].join('\n');
}

export function renderMarkdown(report: BenchReport): string {
  const parts = [
    `Benchmarks (${report.mode}), ${report.startedAt}, ${report.seconds.toFixed(0)} s on ${report.machine.cpus} cores / ${report.machine.memoryGiB} GiB, Node ${report.machine.node}.`,
    'Each figure is the median of the runs, with (min–max); comparisons were measured side by side in the same run.',
  ];
  const targets = report.suites.flatMap((s) => s.targets);
  if (targets.length > 0) {
    parts.push(
      '### Targets',
      renderTable({
        header: ['metric', 'target', 'measured', 'met'],
        rows: targets.map((t) => [t.metric, t.target, t.actual, t.met ? 'yes' : `no${t.note ? `: ${t.note}` : ''}`]),
      }),
    );
  }
  for (const suite of report.suites) {
    const earlier = suite.measuredAt && suite.measuredAt < report.startedAt ? ` (measured ${suite.measuredAt})` : '';
    parts.push(`### ${suite.title}${earlier}`, ...suite.tables.map(renderTable));
    if (suite.notes?.length) parts.push(suite.notes.map((n) => `- ${n}`).join('\n'));
  }
  return `${parts.join('\n\n')}\n`;
}

export async function writeReport(report: BenchReport, jsonPath: string, markdownPath: string): Promise<void> {
  await mkdir(dirname(jsonPath), { recursive: true });
  await writeFile(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(markdownPath, renderMarkdown(report));
}
