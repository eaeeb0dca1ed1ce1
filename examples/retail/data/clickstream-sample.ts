import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { formatCsvRow } from '../../../shared/stages/validate/delimited';
import { addDays, compactDate } from '../../../shared/core/time/dates';
import { pick, seededRandom } from './random';

/**
 * The e-commerce clickstream sample (DESIGN.md, use case 2), deterministic for a seed and any
 * scale. Per day, under the landing directory:
 *   clickstream/events/<YYYYMMDD>/part-NNNN.jsonl  one JSON object per event:
 *       event_id, customer_id, event_type (view|search|add_to_cart|checkout|purchase),
 *       product_id (absent for search), event_ts (UTC, ISO 8601), channel (web|mobile|store),
 *       region, order_id (purchase only)
 *   clickstream/orders/<YYYYMMDD>/part-NNNN.csv   order_id,order_line,customer_id,order_ts,channel,
 *       store_id,product_id,quantity,unit_price (one row per order line; store_id for store orders)
 *   reference/{customers,products,stores}/<YYYYMMDD>/<name>.csv   the day's reference snapshots
 * Sessions are bursts of events less than 30 minutes apart, separated by longer gaps. Options add
 * skew (customer C00001 gets a share of the sessions, as one bot-like session of events under a
 * second apart, so it can hold most rows at any scale), duplicate events (same event_id, same
 * line) and malformed lines (counted in the result, so a test knows what validation must reject).
 */
export interface ClickstreamOptions {
  seed: number;
  startDate: string;
  days: number;
  customers: number;
  products: number;
  stores: number;
  /** sessions per day over all customers */
  sessionsPerDay: number;
  /** share of the sessions that belong to customer C00001 (0 for none) */
  skew: number;
  /** share of events written twice (an at-least-once producer) */
  duplicateShare: number;
  /** malformed event lines per day (not JSON, or missing fields) */
  malformedPerDay: number;
  /** event files per day */
  parts: number;
}

export const DEFAULT_CLICKSTREAM: ClickstreamOptions = {
  seed: 2026,
  startDate: '2026-11-23',
  days: 1,
  customers: 40,
  products: 20,
  stores: 4,
  sessionsPerDay: 120,
  skew: 0,
  duplicateShare: 0.02,
  malformedPerDay: 3,
  parts: 2,
};

export const FUNNEL = ['view', 'search', 'add_to_cart', 'checkout', 'purchase'] as const;
const CHANNELS = ['web', 'mobile', 'store'] as const;
const REGIONS = ['us-east', 'us-west', 'eu-west', 'ap-south'];
const CATEGORIES = ['Shoes', 'Bags', 'Hats', 'Shirts'];
const SEGMENTS = ['new', 'regular', 'vip'];

export interface ClickstreamResult {
  /** keys relative to landing/ */
  files: string[];
  events: number;
  duplicates: number;
  malformed: number;
  orders: number;
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');
export const customerId = (i: number) => `C${pad(i + 1, 5)}`;
export const productId = (i: number) => `P${pad(i + 1, 4)}`;
export const storeCode = (i: number) => `S${pad(i + 1, 3)}`;

async function put(dir: string, key: string, text: string): Promise<void> {
  await mkdir(dirname(join(dir, key)), { recursive: true });
  await writeFile(join(dir, key), text);
}

/** A writer that spreads lines over `parts` files of one day, streaming (any scale). */
function partWriter(dir: string, prefix: string, ext: string, parts: number, header?: string) {
  const streams = Array.from({ length: parts }, (_, i) => {
    const key = `${prefix}/part-${pad(i + 1, 4)}.${ext}`;
    return { key, stream: null as ReturnType<typeof createWriteStream> | null };
  });
  let next = 0;
  return {
    keys: streams.map((s) => s.key),
    async write(line: string) {
      const target = streams[next]!;
      next = (next + 1) % streams.length;
      if (!target.stream) {
        await mkdir(dirname(join(dir, target.key)), { recursive: true });
        target.stream = createWriteStream(join(dir, target.key));
        if (header) target.stream.write(`${header}\n`);
      }
      if (!target.stream.write(`${line}\n`)) await once(target.stream, 'drain');
    },
    async close() {
      for (const s of streams) {
        if (!s.stream) {
          // every part exists, even when empty, so a day always has the same files
          await put(dir, s.key, header ? `${header}\n` : '');
          continue;
        }
        s.stream.end();
        await once(s.stream, 'close');
      }
    },
  };
}

export async function writeClickstreamSample(dir: string, options: ClickstreamOptions = DEFAULT_CLICKSTREAM): Promise<ClickstreamResult> {
  const random = seededRandom(options.seed);
  const result: ClickstreamResult = { files: [], events: 0, duplicates: 0, malformed: 0, orders: 0 };
  const prices = Array.from({ length: options.products }, () => (Math.floor(random() * 20000) / 100 + 1).toFixed(2));
  const homeRegion = Array.from({ length: options.customers }, () => pick(random, REGIONS));
  const storeRegion = Array.from({ length: options.stores }, () => pick(random, REGIONS));
  let eventSeq = 0;
  let orderSeq = 0;
  for (let day = 0; day < options.days; day += 1) {
    const date = addDays(options.startDate, day);
    const d = compactDate(date);
    const reference = {
      customers: [
        formatCsvRow(['customer_id', 'customer_name', 'segment', 'home_region', 'signup_date']),
        ...Array.from({ length: options.customers }, (_, i) =>
          formatCsvRow([customerId(i), `Customer ${i + 1}`, pick(random, SEGMENTS), homeRegion[i]!, addDays('2025-01-01', i % 300)]),
        ),
      ],
      products: [
        formatCsvRow(['product_id', 'product_name', 'category', 'list_price']),
        ...Array.from({ length: options.products }, (_, i) => formatCsvRow([productId(i), `Product ${i + 1}`, pick(random, CATEGORIES), prices[i]!])),
      ],
      stores: [
        formatCsvRow(['store_id', 'store_name', 'region', 'city']),
        ...Array.from({ length: options.stores }, (_, i) => formatCsvRow([storeCode(i), `Store ${i + 1}`, storeRegion[i]!, `City ${i + 1}`])),
      ],
    };
    for (const [name, lines] of Object.entries(reference)) {
      const key = `reference/${name}/${d}/${name}.csv`;
      await put(dir, key, `${lines.join('\n')}\n`);
      result.files.push(key);
    }
    const events = partWriter(dir, `clickstream/events/${d}`, 'jsonl', options.parts);
    const orders = partWriter(
      dir,
      `clickstream/orders/${d}`,
      'csv',
      1,
      'order_id,order_line,customer_id,order_ts,channel,store_id,product_id,quantity,unit_price',
    );
    const dayStart = Date.parse(`${date}T00:00:00Z`);
    // Each customer's sessions are laid out in time order with gaps over 30 minutes between them.
    const nextFree = new Map<number, number>();
    for (let s = 0; s < options.sessionsPerDay; s += 1) {
      const skewed = random() < options.skew;
      const customer = skewed ? 0 : 1 + Math.floor(random() * (options.customers - 1));
      const channel = pick(random, CHANNELS);
      const store = channel === 'store' ? Math.floor(random() * options.stores) : -1;
      const region = channel === 'store' ? storeRegion[store]! : homeRegion[customer]!;
      let t = Math.max(nextFree.get(customer) ?? dayStart + Math.floor(random() * 3600_000), dayStart);
      const steps: string[] = ['view'];
      if (random() < 0.5) steps.push('search', 'view');
      if (random() < 0.6) steps.push('add_to_cart');
      if (steps.includes('add_to_cart') && random() < 0.7) steps.push('checkout');
      if (steps.includes('checkout') && random() < 0.8) steps.push('purchase');
      const product = Math.floor(random() * options.products);
      let orderId: string | null = null;
      for (const type of steps) {
        if (t >= dayStart + 86_400_000 - 1000) break; // the day is over: the session ends here
        eventSeq += 1;
        const event: Record<string, unknown> = { event_id: `E${pad(eventSeq, 9)}`, customer_id: customerId(customer), event_type: type };
        if (type !== 'search') event.product_id = productId(product);
        event.event_ts = new Date(t).toISOString();
        event.channel = channel;
        event.region = region;
        if (type === 'purchase') {
          orderSeq += 1;
          orderId = `O${pad(orderSeq, 8)}`;
          event.order_id = orderId;
          const lines = 1 + Math.floor(random() * 2);
          for (let l = 0; l < lines; l += 1) {
            const p = l === 0 ? product : Math.floor(random() * options.products);
            const quantity = 1 + Math.floor(random() * 3);
            await orders.write(
              formatCsvRow([
                orderId,
                l + 1,
                customerId(customer),
                new Date(t).toISOString(),
                channel,
                store >= 0 ? storeCode(store) : '',
                productId(p),
                quantity,
                prices[p]!,
              ]),
            );
          }
          result.orders += 1;
        }
        const line = JSON.stringify(event);
        await events.write(line);
        result.events += 1;
        if (random() < options.duplicateShare) {
          await events.write(line);
          result.duplicates += 1;
        }
        // within a session: 5 s to 25 min between events (never the 30-minute gap); the skewed
        // customer behaves like a bot, one endless session of events under a second apart
        t += skewed ? 50 + Math.floor(random() * 450) : 5_000 + Math.floor(random() * 25 * 60_000);
      }
      nextFree.set(customer, skewed ? t + 1_000 : t + 31 * 60_000 + Math.floor(random() * 3600_000));
    }
    for (let m = 0; m < options.malformedPerDay; m += 1) {
      await events.write(
        m % 2 === 0 ? '{"event_id": "broken", "customer_id": ' : JSON.stringify({ event_id: `BAD${m}`, event_type: 'view', event_ts: 'yesterday' }),
      );
      result.malformed += 1;
    }
    await events.close();
    await orders.close();
    result.files.push(...events.keys, ...orders.keys);
  }
  return result;
}
