import type { JobConfig, PipelineConfig, Precondition } from '../../shared/core/config/types';
import { expectedValues, requiredCount } from '../../shared/core/config/lookups';

/** One precondition of a batch as a checklist line: met or not, and what has arrived and what is missing. */
export interface ChecklistItem {
  /** the precondition in words: "5 distinct stores of pos" */
  label: string;
  met: boolean;
  /** the resolver's words for an unmet one ("4 of 5 stores of pos (have ON01, …)") */
  detail?: string;
  have?: string[];
  missing?: string[];
}

export interface Checklist {
  items: ChecklistItem[];
  /** what the batch waits for besides its preconditions: files still in flight, an input newer than the last run */
  other: string[];
}

function describe(p: Precondition, config: Pick<PipelineConfig, 'lookups'>, values: Record<string, string>): string {
  switch (p.kind) {
    case 'minDistinct': {
      const need = requiredCount(config, p.count, values);
      return `${'count' in need ? need.count : '?'} distinct ${p.field}s of ${p.input}`;
    }
    case 'present':
      return `${p.input} present`;
    case 'minTotalBytes':
      return `${p.input}: at least ${p.bytes} bytes`;
    case 'manifest':
      return `every ${p.field} of ${p.input} the manifest ${p.manifest} lists`;
    case 'newerThanLastRun':
      return 'an input newer than the last successful run';
  }
}

/** A file still in flight: not a precondition's, the batch waits for it whatever its preconditions. */
const IN_FLIGHT = / file\(s\) still being processed/;

/** Whether one of the resolver's lines (evaluate.ts's words) is about this precondition. */
function isAbout(line: string, p: Precondition, job: JobConfig): boolean {
  if (p.kind === 'newerThanLastRun') return line.startsWith('an input newer');
  if (IN_FLIGHT.test(line)) return false;
  const upstream = job.inputs.find((i) => i.relation === p.input)?.job;
  const partition = upstream !== undefined && line.startsWith(`${upstream} `);
  switch (p.kind) {
    case 'minDistinct':
      return line.includes(` ${p.field}s of ${upstream ?? p.input}`) || partition;
    case 'present':
      return line.startsWith(`${p.input} for `) || partition;
    case 'minTotalBytes':
      return line.startsWith(`${p.input}: `) && line.endsWith(' bytes');
    case 'manifest':
      return (
        line.startsWith(`${p.manifest} (the manifest)`) ||
        line.includes(` ${p.field}s of ${p.input} listed in `) ||
        line.includes(` ${p.field}s of ${p.input} (the count in `)
      );
  }
}

/** "(have ON01, ON02)" in the resolver's words, as a list. */
function haveIn(line: string): string[] | undefined {
  const m = /\(have ([^)]*)\)/.exec(line);
  if (!m) return undefined;
  return m[1] === 'none' ? [] : m[1]!.split(', ').filter(Boolean);
}

/**
 * Each precondition of the job as a checklist for one batch, from what the batch waits for now
 * (explainBatch's live words): met when none of those words is about it. A count over a listed
 * lookup names what has arrived and what is missing: "have ON01…ON04, missing ON05".
 */
export function preconditionChecklist(
  config: Pick<PipelineConfig, 'lookups'>,
  job: JobConfig,
  values: Record<string, string>,
  waitingFor: string[],
): Checklist {
  const used = new Set<string>();
  const items = job.preconditions.map((p): ChecklistItem => {
    const label = describe(p, config, values);
    const lines = waitingFor.filter((l) => isAbout(l, p, job));
    for (const l of lines) used.add(l);
    const item: ChecklistItem = { label, met: lines.length === 0 };
    if (lines.length > 0) item.detail = lines.join('; ');
    const have = p.kind === 'minDistinct' && lines.length > 0 ? haveIn(lines[0]!) : undefined;
    if (p.kind === 'minDistinct' && have) {
      item.have = have;
      const expected = expectedValues(config, p.count, values);
      if (expected) item.missing = expected.filter((v) => !have.includes(v));
    }
    return item;
  });
  return { items, other: waitingFor.filter((l) => !used.has(l)) };
}
