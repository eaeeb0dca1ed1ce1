import type { Pipeline } from '../../shared/core/config/load-config';
import type { JobConfig } from '../../shared/core/config/types';
import { batchId as batchIdOf, batchesForFile, type BatchRef } from '../../shared/core/runs/batches';

/** A node of the pipeline's graph: a dataset, a job, a curated table it writes, a warehouse table it loads. */
export interface LineageNode {
  id: string;
  kind: 'dataset' | 'job' | 'table' | 'warehouse';
  label: string;
  /** the column it is drawn in (left to right) and its row there */
  column: number;
  row: number;
}

export interface LineageEdge {
  from: string;
  to: string;
}

export interface LineageGraph {
  nodes: LineageNode[];
  edges: LineageEdge[];
  columns: number;
  /** rows of the tallest column */
  rows: number;
}

const id = (kind: LineageNode['kind'], name: string) => `${kind}:${name}`;

/** A job's curated tables: its output table, or each table of a job writing several (`table/name`). */
export const tablesOf = (job: JobConfig) => (job.output.tables ? Object.keys(job.output.tables).map((t) => `${job.output.table}/${t}`) : [job.output.table]);

/**
 * The pipeline as a layered graph, datasets → jobs → tables → warehouse, from its configuration.
 * Columns: datasets first; a job one column right of what it reads (a job reading another job's
 * tables sits right of them), its tables one further, the warehouse last. Within a column, nodes
 * are ordered by the mean row of what feeds them (one pass), so edges cross little.
 */
export function lineageGraph(pipeline: Pipeline): LineageGraph {
  const { datasets, jobs } = pipeline.config;
  const edges: LineageEdge[] = [];
  const column = new Map<string, number>();
  const nodes = new Map<string, Omit<LineageNode, 'row'>>();
  for (const d of datasets) {
    nodes.set(id('dataset', d.name), { id: id('dataset', d.name), kind: 'dataset', label: d.name, column: 0 });
    column.set(id('dataset', d.name), 0);
  }
  // jobs in the configuration's order already come after the jobs they read (compilePipeline's dependency order)
  const jobColumn = (job: JobConfig): number => {
    const known = column.get(id('job', job.name));
    if (known !== undefined) return known;
    const upstream = job.inputs.map((i) => {
      const reads = pipeline.jobsByName.get(i.source);
      return i.job && reads ? jobColumn(reads) + 1 : 0;
    });
    const c = Math.max(0, ...upstream) + 1;
    column.set(id('job', job.name), c);
    return c;
  };
  for (const job of jobs) {
    const c = jobColumn(job);
    nodes.set(id('job', job.name), { id: id('job', job.name), kind: 'job', label: job.name, column: c });
    for (const input of job.inputs) {
      const upstream = pipeline.jobsByName.get(input.source);
      if (input.job && upstream) for (const t of tablesOf(upstream)) edges.push({ from: id('table', t), to: id('job', job.name) });
      else edges.push({ from: id('dataset', input.source), to: id('job', job.name) });
    }
    for (const t of tablesOf(job)) {
      nodes.set(id('table', t), { id: id('table', t), kind: 'table', label: t, column: c + 1 });
      edges.push({ from: id('job', job.name), to: id('table', t) });
    }
    for (const load of job.load ?? []) {
      const table = job.output.tables ? `${job.output.table}/${load.table}` : job.output.table;
      nodes.set(id('warehouse', load.into), { id: id('warehouse', load.into), kind: 'warehouse', label: load.into, column: -1 });
      edges.push({ from: id('table', table), to: id('warehouse', load.into) });
    }
  }
  const last = Math.max(0, ...[...nodes.values()].filter((n) => n.kind !== 'warehouse').map((n) => n.column)) + 1;
  for (const n of nodes.values()) if (n.kind === 'warehouse') n.column = last;
  const columns = Math.max(...[...nodes.values()].map((n) => n.column)) + 1;

  // rows: column by column, each node at the mean row of its sources (ties keep the configuration's order)
  const rowOf = new Map<string, number>();
  let rows = 0;
  for (let c = 0; c < columns; c += 1) {
    const here = [...nodes.values()].filter((n) => n.column === c);
    const weight = (n: Omit<LineageNode, 'row'>) => {
      const sources = edges.filter((e) => e.to === n.id && rowOf.has(e.from)).map((e) => rowOf.get(e.from)!);
      return sources.length > 0 ? sources.reduce((a, b) => a + b, 0) / sources.length : Number.POSITIVE_INFINITY;
    };
    const ordered = here.map((n, i) => ({ n, i, w: weight(n) })).sort((a, b) => a.w - b.w || a.i - b.i);
    ordered.forEach(({ n }, row) => rowOf.set(n.id, row));
    rows = Math.max(rows, here.length);
  }
  return { nodes: [...nodes.values()].map((n) => ({ ...n, row: rowOf.get(n.id)! })), edges, columns, rows };
}

/** A batch that re-runs when a batch it depends on gets new output, and through which job it depends. */
export interface DependentBatch {
  batch: BatchRef;
  batchId: string;
  /** the job whose output it reads */
  reads: string;
}

/**
 * What re-runs if one of this batch's inputs is replayed: the batch itself, then every batch of the
 * jobs reading its job's output that its partition completes (batchesForFile on the job's output,
 * as the resolver finds them), and theirs in turn. From the configuration: no read.
 */
export function dependentBatches(pipeline: Pipeline, batch: BatchRef): DependentBatch[] {
  const out: DependentBatch[] = [];
  const seen = new Set<string>();
  const queue: BatchRef[] = [batch];
  while (queue.length > 0) {
    const current = queue.shift()!;
    for (const next of batchesForFile(pipeline, current.job, current.values)) {
      const job = pipeline.jobsByName.get(next.job);
      if (!job) continue;
      const nextId = batchIdOf(next, job);
      if (seen.has(nextId)) continue;
      seen.add(nextId);
      out.push({ batch: next, batchId: nextId, reads: current.job });
      queue.push(next);
    }
  }
  return out;
}
