import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { deflated, deflatedZeros, zipArchive } from './zip';

/*
 * The sample of the partner-zip pipeline (the convention of ops/README.md, "Samples"): each partner
 * drops one zip a day, `partner/<partner>_<YYYYMMDD>.zip`, holding `orders.csv` and `customers.csv`:
 * `;`-delimited, Windows-1252 (é, ü, €), decimal comma, `DD.MM.YYYY` dates, quoted fields holding
 * `;`. From the second day the orders header gains a column and lists the columns in another order.
 * One order line holds a byte Windows-1252 does not define (a bad row); beside the drops lie an
 * archive with a member `../x.csv` and a zip bomb, each REJECTED whole.
 */

interface Knobs {
  seed?: number;
  days?: number;
  rows?: number;
}

export const defaults = { seed: 11, days: 2, rows: 60 };

export const description =
  "partners' daily zip drops of orders.csv and customers.csv (';', Windows-1252, decimal comma, DD.MM.YYYY, a header that changes on day 2), " +
  'with a bad byte on one line, an archive with a member ../x.csv and a zip bomb';

export const START_DATE = '2026-12-07';
export const PARTNERS = ['acme', 'mueller'];
/** the bomb: this many zero bytes unpacked (a few hundred kB on disk, a ratio far above the default 200) */
export const BOMB_BYTES = 300 * 1024 * 1024;

export interface Customer {
  customer_id: string;
  name: string;
  city: string;
}

export interface Order {
  order_id: string;
  customer_id: string;
  /** YYYY-MM-DD */
  order_date: string;
  /** the amount in cents */
  cents: number;
  note: string | null;
  currency: string;
  /** the line holds a byte undefined in Windows-1252: a bad row */
  badByte: boolean;
}

export interface PartnerDrop {
  partner: string;
  /** YYYY-MM-DD */
  date: string;
  key: string;
  customers: Customer[];
  orders: Order[];
  /** the day's orders header: the second day adds `currency` and reorders the columns */
  layout: 'v1' | 'v2';
}

const FIRST = ['Zoë', 'Renée', 'Jürgen', 'François', 'Björn', 'Anaïs', 'Søren', 'Inês', 'Günther', 'Chloé'];
const LAST = ['Müller', 'Dubois', 'Groß', 'Lefèvre', 'Öztürk', 'García', 'Ångström', 'Weiß'];
const CITIES = ['Zürich', 'Köln', 'Genève', 'Bad Tölz; Oberbayern', 'Málaga', 'Düsseldorf'];
const NOTES = [null, null, 'Lieferung; bitte klingeln', 'Rabatt 5 €', 'Express', 'Geschenk "verpackt"'];

function numbers(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x >>> 8;
  };
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');
const addDays = (date: string, days: number) => new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

/** Every partner's drops and their rows, before any is written. */
export function partnerDrops(options: Knobs = {}): PartnerDrop[] {
  const { seed, days, rows } = { ...defaults, ...options };
  const next = numbers(seed);
  const drops: PartnerDrop[] = [];
  for (const [p, partner] of PARTNERS.entries()) {
    const customers: Customer[] = Array.from({ length: 8 }, (_, i) => ({
      customer_id: `${partner.slice(0, 1).toUpperCase()}C${pad(i + 1, 3)}`,
      name: `${FIRST[next() % FIRST.length]} ${LAST[next() % LAST.length]}`,
      // the third customer's city holds the delimiter (a quoted field)
      city: i === 2 ? 'Bad Tölz; Oberbayern' : CITIES[next() % CITIES.length]!,
    }));
    for (let d = 0; d < days; d += 1) {
      const date = addDays(START_DATE, d);
      const orders: Order[] = Array.from({ length: rows }, (_, i) => ({
        order_id: `${partner.toUpperCase()}-${date.replaceAll('-', '')}-${pad(i + 1, 4)}`,
        // customers 1–7 order; the eighth never does
        customer_id: customers[next() % 7]!.customer_id,
        order_date: addDays(date, -(next() % 3)),
        cents: 100 + (next() % 250_000),
        note: NOTES[next() % NOTES.length]!,
        currency: 'EUR',
        // the first partner's first day: one line with a byte undefined in Windows-1252
        badByte: p === 0 && d === 0 && i === 5,
      }));
      drops.push({ partner, date, key: `partner/${partner}_${date.replaceAll('-', '')}.zip`, customers, orders, layout: d === 0 ? 'v1' : 'v2' });
    }
  }
  return drops;
}

/** Text in Windows-1252: Latin-1 plus € (0x80); `\u0081` stands for the undefined byte 0x81. */
function windows1252(text: string): Buffer {
  return Buffer.from(
    Array.from(text, (ch) => {
      const code = ch.codePointAt(0)!;
      if (ch === '€') return 0x80;
      if (code === 0x81 || code < 0x80 || (code >= 0xa0 && code <= 0xff)) return code;
      throw new Error(`no Windows-1252 byte for ${ch}`);
    }),
  );
}

/** A value as the partner's export writes it: quoted when it holds `;` or `"` (quotes doubled). */
const field = (v: string | null) => (v === null ? '' : /[;"]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
const ddmmyyyy = (date: string) => `${date.slice(8, 10)}.${date.slice(5, 7)}.${date.slice(0, 4)}`;
const commaAmount = (cents: number) => `${Math.floor(cents / 100)},${pad(cents % 100)}`;

function ordersCsv(drop: PartnerDrop): Buffer {
  const line = (o: Order) => {
    const note = o.badByte ? `${o.note ?? 'Hinweis'} \u0081` : o.note;
    return drop.layout === 'v1'
      ? [o.order_id, o.customer_id, ddmmyyyy(o.order_date), commaAmount(o.cents), field(note)].join(';')
      : [o.customer_id, o.order_id, o.currency, commaAmount(o.cents), ddmmyyyy(o.order_date), field(note)].join(';');
  };
  const header = drop.layout === 'v1' ? 'order_id;customer_id;order_date;amount;note' : 'customer_id;order_id;currency;amount;order_date;note';
  // CRLF line ends, as a Windows export writes them
  return windows1252(`${[header, ...drop.orders.map(line)].join('\r\n')}\r\n`);
}

function customersCsv(drop: PartnerDrop): Buffer {
  return windows1252(`${['customer_id;name;city', ...drop.customers.map((c) => [c.customer_id, field(c.name), field(c.city)].join(';'))].join('\r\n')}\r\n`);
}

export const HOSTILE = {
  /** a member whose path leaves the archive */
  traversal: `partner/evil_${START_DATE.replaceAll('-', '')}.zip`,
  /** a member that unpacks to BOMB_BYTES of zeros */
  bomb: `partner/bomb_${START_DATE.replaceAll('-', '')}.zip`,
};

/** What each landed object must become: the drops UNPACKED, their members CONVERTED, the hostile archives REJECTED. */
export function expectedStates(drops: PartnerDrop[]) {
  return [
    ...drops.flatMap((d) => {
      const bad = d.orders.filter((o) => o.badByte).length;
      return [
        { key: d.key, state: 'UNPACKED' as const },
        { key: `${d.key}!/orders.csv`, state: 'CONVERTED' as const, rows: { in: d.orders.length, out: d.orders.length - bad, rejected: bad, junk: 0 } },
        { key: `${d.key}!/customers.csv`, state: 'CONVERTED' as const, rows: { in: d.customers.length, out: d.customers.length, rejected: 0, junk: 0 } },
      ];
    }),
    { key: HOSTILE.traversal, state: 'REJECTED' as const, reason: '".." segment' },
    { key: HOSTILE.bomb, state: 'REJECTED' as const, reason: 'zip bomb' },
  ];
}

/** `landfall generate`: the archives under outDir (each path its key under landing/) and their expected states. */
export async function generateSample(outDir: string, options: Knobs) {
  const drops = partnerDrops(options);
  const put = async (key: string, bytes: Buffer) => {
    await mkdir(dirname(join(outDir, key)), { recursive: true });
    await writeFile(join(outDir, key), bytes);
  };
  for (const drop of drops) await put(drop.key, zipArchive([deflated('orders.csv', ordersCsv(drop)), deflated('customers.csv', customersCsv(drop))]));
  const first = drops[0]!;
  await put(HOSTILE.traversal, zipArchive([deflated('orders.csv', ordersCsv(first)), deflated('../x.csv', customersCsv(first))]));
  await put(HOSTILE.bomb, zipArchive([deflated('customers.csv', customersCsv(first)), await deflatedZeros('orders.csv', BOMB_BYTES)]));
  return { expected: expectedStates(drops) };
}
