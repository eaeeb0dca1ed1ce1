import { describe, expect, it } from 'vitest';
import { SettledHours } from '../../ops/operations/overview';
import { settledPartition } from '../../shared/core/state/file-state-store';

describe("the overview's kept hours", () => {
  const summary = { counts: { CONVERTED: 3 }, heldOut: [] };
  const at = Date.parse('2026-08-03T12:00:00.000Z');
  const hours = ['05', '06', '07', '08'].map((h) => settledPartition(`2026-08-03T${h}:00:00.000Z`));

  it('names the hours read longest ago to be read again, a few per read', () => {
    const kept = new SettledHours(2);
    kept.set(hours[2]!, summary, at);
    kept.set(hours[0]!, summary, at + 1);
    kept.set(hours[1]!, summary, at + 2);
    expect(kept.get(hours[0]!)).toBe(summary);
    expect(kept.get(hours[3]!)).toBeUndefined();
    // hours[3] is not kept: it is read anyway, not one of the few read again
    expect([...kept.stalest(hours)]).toEqual([hours[2], hours[0]]);
    kept.set(hours[2]!, summary, at + 3);
    kept.set(hours[0]!, summary, at + 4);
    expect([...kept.stalest(hours)]).toEqual([hours[1], hours[2]]);
  });

  it('forgets hours no 24-hour window reaches any more', () => {
    const kept = new SettledHours();
    const old = settledPartition('2026-08-01T09:00:00.000Z');
    kept.set(old, summary, at - 86_400_000);
    kept.set(hours[0]!, summary, at);
    expect(kept.get(old)).toBeUndefined();
    expect(kept.get(hours[0]!)).toBe(summary);
  });
});
