import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lineageSvg } from '../../ops/console/lineage-svg';
import { lineageView } from '../../ops/console/views/lineage';
import { dependentBatches, lineageGraph } from '../../ops/operations/lineage';
import { compilePipeline } from '../../shared/core/config/load-config';
import { batchItem, pageContext, retailPipeline, runItem } from './console-fixtures';

const SQL = join(import.meta.dirname, '..', 'fixtures', 'meters', 'sql', 'region_usage.v1.sql');

/** Two regions' days, a job per region, a job reading the regional job's output, and one reading that. */
const chained = () =>
  compilePipeline({
    lookups: { regions: ['east', 'west'] },
    datasets: [
      {
        name: 'parts',
        keyPattern: 'p/{region}/{day:YYYYMMDD}/{part}.csv',
        format: { kind: 'delimited', delimiter: ',' },
        columns: [{ name: 'v', kind: 'integer' }],
        keyFieldValues: { region: { lookup: 'regions' } },
        partitionBy: ['region'],
        dateField: 'day',
      },
    ],
    jobs: [
      {
        name: 'regional',
        batchKey: ['region', 'day'],
        inputs: [{ relation: 'parts', dataset: 'parts', match: ['region', 'day'] }],
        stages: [{ name: 's', sql: SQL }],
        output: { table: 'regional', partitionBy: ['region', 'day'], key: ['v'] },
      },
      {
        name: 'national',
        batchKey: ['day'],
        inputs: [{ relation: 'regional', job: 'regional', match: ['day'] }],
        stages: [{ name: 's', sql: SQL }],
        output: { table: 'national', partitionBy: ['day'], key: ['v'] },
      },
      {
        name: 'report',
        batchKey: ['day'],
        inputs: [{ relation: 'national', job: 'national', match: ['day'] }],
        stages: [{ name: 's', sql: SQL }],
        output: { table: 'report', partitionBy: ['day'], key: ['v'] },
      },
    ],
  });

describe('the lineage graph of a pipeline', () => {
  it('lays the retail sample out as datasets → jobs → tables → warehouse, one box per place', () => {
    const graph = lineageGraph(retailPipeline());
    const column = (kind: string) => [...new Set(graph.nodes.filter((n) => n.kind === kind).map((n) => n.column))];
    expect(graph.nodes.filter((n) => n.kind === 'dataset')).toHaveLength(7);
    expect(graph.nodes.filter((n) => n.kind === 'job').map((n) => n.label)).toEqual(['pos_daily_sales', 'clickstream_daily']);
    expect([column('dataset'), column('job'), column('table'), column('warehouse')]).toEqual([[0], [1], [2], [3]]);
    expect(graph.nodes.filter((n) => n.kind === 'table').map((n) => n.label)).toContain('clickstream/gmv_daily');
    // no two boxes in the same place
    const places = graph.nodes.map((n) => `${n.column}:${n.row}`);
    expect(new Set(places).size).toBe(places.length);
    expect(graph.rows).toBe(7);
    // every edge joins two boxes, left to right
    const byId = new Map(graph.nodes.map((n) => [n.id, n]));
    for (const e of graph.edges) expect(byId.get(e.to)!.column).toBeGreaterThan(byId.get(e.from)!.column);
    expect(graph.edges).toContainEqual({ from: 'dataset:item_master', to: 'job:pos_daily_sales' });
    expect(graph.edges).toContainEqual({ from: 'table:clickstream/funnel', to: 'warehouse:funnel' });
  });

  it('orders a column by what feeds it, so the edges cross little', () => {
    const graph = lineageGraph(retailPipeline());
    const row = (id: string) => graph.nodes.find((n) => n.id === id)!.row;
    // pos and item_master (rows 0, 1) feed pos_daily_sales; the five clickstream datasets feed the other job
    expect(row('job:pos_daily_sales')).toBeLessThan(row('job:clickstream_daily'));
    expect(row('table:pos_daily_sales')).toBe(0);
    expect(row('warehouse:pos_daily_sales')).toBe(0);
  });

  it('puts a job reading another job right of that job’s table', () => {
    const graph = lineageGraph(chained());
    const at = (id: string) => graph.nodes.find((n) => n.id === id)!.column;
    expect([at('dataset:parts'), at('job:regional'), at('table:regional'), at('job:national'), at('table:national'), at('job:report')]).toEqual([
      0, 1, 2, 3, 4, 5,
    ]);
    expect(graph.edges).toContainEqual({ from: 'table:regional', to: 'job:national' });
  });

  it('is drawn as SVG naming every dataset, with escaped names and no script', () => {
    const svg = lineageSvg(lineageGraph(retailPipeline())).text;
    expect(svg.startsWith('<svg')).toBe(true);
    for (const d of ['pos', 'item_master', 'click_events', 'orders', 'customers', 'products', 'stores']) expect(svg).toContain(`<title>dataset ${d}</title>`);
    expect(svg).toContain('<a href="/batches?job=pos_daily_sales">');
    expect(svg).not.toMatch(/<script|on\w+=/i);
    const hostile = lineageSvg({
      nodes: [{ id: 'dataset:x', kind: 'dataset', label: '<img src=x onerror=alert(1)>', column: 0, row: 0 }],
      edges: [],
      columns: 1,
      rows: 1,
    }).text;
    expect(hostile).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(hostile).not.toMatch(/<img/i);
  });
});

describe('the lineage of one batch', () => {
  it('names the batches that re-run after it, transitively, from the configuration', () => {
    const deps = dependentBatches(chained(), { job: 'regional', values: { region: 'east', day: '2026-05-01' } });
    expect(deps.map((d) => [d.batchId, d.reads])).toEqual([
      ['national#day=2026-05-01', 'regional'],
      ['report#day=2026-05-01', 'national'],
    ]);
    expect(dependentBatches(retailPipeline(), { job: 'pos_daily_sales', values: { province: 'ON', date: '2026-08-01' } })).toEqual([]);
  });

  it('shows what the newest run read, each file linked, and what re-runs', () => {
    const batch = batchItem('ON', '2026-08-01', 'SUCCEEDED');
    const run = runItem(batch, 'exec-1');
    const body = lineageView(retailPipeline(), pageContext(), { id: batch.batchId, job: batch.job, values: batch.values, run, dependents: [] }).text;
    expect(body).toContain('<a href="/file?key=landing%2Fpos%2FON%2FON01_20260801_200000.tdf">landing/pos/ON/ON01_20260801_200000.tdf</a>@<code>v1</code>');
    expect(body).toContain('re-runs this batch only');
    expect(body).toContain('<svg');
  });
});
