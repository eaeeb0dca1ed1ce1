import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The clickstream job's metrics computed independently of Spark and of the pipeline: plain
 * TypeScript over the landing files. Events: malformed lines skipped (as validation rejects them),
 * duplicates by event_id removed, sessions split where the gap is over 30 minutes. Orders:
 * deduplicated by (order_id, order_line), GMV = quantity × unit_price in integer cents.
 */
interface Event {
  event_id: string;
  customer_id: string;
  event_type: string;
  event_ts: string;
}

const FUNNEL = ['view', 'search', 'add_to_cart', 'checkout', 'purchase'];
const GAP_MS = 30 * 60_000;

async function linesOf(dir: string): Promise<string[]> {
  const lines: string[] = [];
  for (const file of (await readdir(dir)).sort()) lines.push(...(await readFile(join(dir, file), 'utf8')).split('\n').filter((l) => l.trim() !== ''));
  return lines;
}

const cents = (text: string) => {
  const [whole, frac = ''] = text.split('.');
  return BigInt(whole!) * 100n + BigInt(`${frac}00`.slice(0, 2));
};
const money = (c: bigint) => `${c / 100n}.${String(c % 100n).padStart(2, '0')}`;

export interface ExpectedClickstream {
  gmvDaily: { gmv: string; orders: number; units: number };
  gmvHourly: Array<{ hour: number; gmv: string; orders: number }>;
  funnel: Array<{ step: string; sessions: number; events: number }>;
  sessionsPerUser: Map<string, { sessions: number; events: number }>;
}

export async function expectedClickstream(landing: string, date: string): Promise<ExpectedClickstream> {
  const d = date.replaceAll('-', '');
  const events = new Map<string, Event>();
  for (const line of await linesOf(join(landing, 'clickstream', 'events', d))) {
    let e: Event;
    try {
      e = JSON.parse(line) as Event;
    } catch {
      continue;
    }
    if (!e.event_id || !e.customer_id || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(e.event_ts ?? '')) continue;
    if (!e.event_ts.startsWith(date)) continue;
    const seen = events.get(e.event_id);
    if (!seen || e.event_ts < seen.event_ts) events.set(e.event_id, e);
  }
  // sessions per customer: events in time order, a new session after a gap of more than 30 minutes
  const byCustomer = new Map<string, Event[]>();
  for (const e of events.values()) byCustomer.set(e.customer_id, [...(byCustomer.get(e.customer_id) ?? []), e]);
  const sessionOf = new Map<string, string>();
  const sessionsPerUser = new Map<string, { sessions: number; events: number }>();
  for (const [customer, list] of byCustomer) {
    list.sort((a, b) => Date.parse(a.event_ts) - Date.parse(b.event_ts) || a.event_id.localeCompare(b.event_id));
    let session = 0;
    let last = -Infinity;
    for (const e of list) {
      const t = Date.parse(e.event_ts);
      if (t - last > GAP_MS) session += 1;
      last = t;
      sessionOf.set(e.event_id, `${customer}#${session}`);
    }
    sessionsPerUser.set(customer, { sessions: session, events: list.length });
  }
  const funnel = FUNNEL.map((step) => {
    const ofStep = [...events.values()].filter((e) => e.event_type === step);
    return { step, sessions: new Set(ofStep.map((e) => sessionOf.get(e.event_id))).size, events: ofStep.length };
  });

  const lines = new Map<string, string[]>();
  const orderLines = await linesOf(join(landing, 'clickstream', 'orders', d));
  for (const line of orderLines.filter((l) => !l.startsWith('order_id,'))) {
    const f = line.split(',');
    if (!f[3]!.startsWith(date)) continue;
    lines.set(`${f[0]}#${f[1]}`, f);
  }
  let gmv = 0n;
  let units = 0;
  const orders = new Set<string>();
  const hourly = new Map<number, { gmv: bigint; orders: Set<string> }>();
  for (const f of lines.values()) {
    const amount = BigInt(f[7]!) * cents(f[8]!);
    gmv += amount;
    units += Number(f[7]);
    orders.add(f[0]!);
    const hour = new Date(f[3]!).getUTCHours();
    const h = hourly.get(hour) ?? { gmv: 0n, orders: new Set<string>() };
    h.gmv += amount;
    h.orders.add(f[0]!);
    hourly.set(hour, h);
  }
  return {
    gmvDaily: { gmv: money(gmv), orders: orders.size, units },
    // every hour of the day, 0 where nothing was sold
    gmvHourly: Array.from({ length: 24 }, (_, hour) => ({ hour, gmv: money(hourly.get(hour)?.gmv ?? 0n), orders: hourly.get(hour)?.orders.size ?? 0 })),
    funnel,
    sessionsPerUser,
  };
}
