import { describe, expect, it } from 'vitest';
import { cutoffAsDeadline, datesPastDeadline, deadlineOf, zonedInstant } from '../../shared/core/runs/deadlines';
import { addDays, compactDate } from '../../shared/core/time/dates';

/* Business dates and local deadlines (test/unit/reconcile.test.ts covers the ordinary cases). */

describe('business dates', () => {
  it('adds days across months, years and leap days, in UTC', () => {
    expect(addDays('2026-11-23', 1)).toBe('2026-11-24');
    expect(addDays('2026-11-30', 1)).toBe('2026-12-01');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2027-01-01', -1)).toBe('2026-12-31');
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(addDays('2026-02-28', 1)).toBe('2026-03-01');
    expect(addDays('2024-03-01', -1)).toBe('2024-02-29');
    expect(addDays('2026-11-23', 0)).toBe('2026-11-23');
    expect(addDays('2026-01-01', 365)).toBe('2027-01-01');
  });

  it('does not move across a daylight saving change (the date is not a local time)', () => {
    expect(addDays('2026-03-07', 1)).toBe('2026-03-08');
    expect(addDays('2026-03-08', 1)).toBe('2026-03-09');
    expect(addDays('2026-10-31', 1)).toBe('2026-11-01');
  });

  it('writes a date as landing keys do', () => {
    expect(compactDate('2026-11-23')).toBe('20261123');
  });
});

describe('local wall-clock times', () => {
  it('finds the instant on either side of a daylight saving change', () => {
    // Toronto moves from EST (UTC-5) to EDT (UTC-4) at 02:00 on 8 March 2026, back at 02:00 on 1 November
    expect(zonedInstant('2026-03-08', '01:59', 'America/Toronto').toISOString()).toBe('2026-03-08T06:59:00.000Z');
    expect(zonedInstant('2026-03-08', '03:00', 'America/Toronto').toISOString()).toBe('2026-03-08T07:00:00.000Z');
    expect(zonedInstant('2026-11-01', '00:30', 'America/Toronto').toISOString()).toBe('2026-11-01T04:30:00.000Z');
    expect(zonedInstant('2026-11-01', '03:00', 'America/Toronto').toISOString()).toBe('2026-11-01T08:00:00.000Z');
  });

  it('takes the first of the two instants of a time the clocks go back over', () => {
    // 01:30 happens twice on 1 November in Toronto: 05:30Z (EDT), then 06:30Z (EST)
    expect(zonedInstant('2026-11-01', '01:30', 'America/Toronto').toISOString()).toBe('2026-11-01T05:30:00.000Z');
    // east of UTC too: 02:30 on 5 April in Auckland is 13:30Z (NZDT), then 14:30Z (NZST); 01:30 on
    // 25 October in London is 00:30Z (BST), then 01:30Z (GMT)
    expect(zonedInstant('2026-04-05', '02:30', 'Pacific/Auckland').toISOString()).toBe('2026-04-04T13:30:00.000Z');
    expect(zonedInstant('2026-10-25', '01:30', 'Europe/London').toISOString()).toBe('2026-10-25T00:30:00.000Z');
  });

  // A local time the clocks skip (02:30 on the morning DST starts does not exist in Toronto) once
  // came out as 06:30Z, which is 01:30 EST: an hour *before* any wall-clock time at or after 02:30,
  // so a deadline or cut-off set there fired an hour early. The usual rule (java.time, Temporal's
  // 'compatible') moves such a time forward by the gap: 03:30 EDT = 07:30Z.
  it('moves a local time the clocks skip forward, never before the times around it', () => {
    const skipped = zonedInstant('2026-03-08', '02:30', 'America/Toronto');
    expect(skipped.getTime()).toBeGreaterThanOrEqual(zonedInstant('2026-03-08', '01:59', 'America/Toronto').getTime());
    expect(skipped.toISOString()).toBe('2026-03-08T07:30:00.000Z');
    expect(zonedInstant('2026-03-08', '02:00', 'America/Toronto').toISOString()).toBe('2026-03-08T07:00:00.000Z'); // = 03:00 EDT
    // a half-hour zone, zones east of UTC, and a gap of half an hour (Lord Howe goes from +10:30 to +11)
    expect(zonedInstant('2026-03-08', '02:30', 'America/St_Johns').toISOString()).toBe('2026-03-08T06:00:00.000Z'); // 03:30 NDT
    expect(zonedInstant('2026-03-29', '01:30', 'Europe/London').toISOString()).toBe('2026-03-29T01:30:00.000Z'); // 02:30 BST
    expect(zonedInstant('2026-09-27', '02:30', 'Pacific/Auckland').toISOString()).toBe('2026-09-26T14:30:00.000Z'); // 03:30 NZDT
    expect(zonedInstant('2026-10-04', '02:15', 'Australia/Lord_Howe').toISOString()).toBe('2026-10-03T15:45:00.000Z'); // 02:45 +11
  });

  it('handles zones east of UTC, half hours, and a date change', () => {
    expect(zonedInstant('2026-01-15', '09:00', 'Pacific/Auckland').toISOString()).toBe('2026-01-14T20:00:00.000Z'); // NZDT, UTC+13
    expect(zonedInstant('2026-07-15', '09:00', 'Pacific/Auckland').toISOString()).toBe('2026-07-14T21:00:00.000Z'); // NZST, UTC+12
    expect(zonedInstant('2026-11-23', '00:15', 'Asia/Kathmandu').toISOString()).toBe('2026-11-22T18:30:00.000Z'); // UTC+5:45
    expect(zonedInstant('2026-11-23', '23:30', 'America/St_Johns').toISOString()).toBe('2026-11-24T03:00:00.000Z'); // NST, UTC-3:30
    expect(zonedInstant('2026-11-23', '00:00', 'UTC').toISOString()).toBe('2026-11-23T00:00:00.000Z');
  });
});

describe('deadlines', () => {
  it('puts the deadline on the business date plus its day offset, at local time', () => {
    expect(deadlineOf({ deadline: '18:00', timeZone: 'America/Toronto' }, '2026-11-23').toISOString()).toBe('2026-11-23T23:00:00.000Z');
    // the day after, across the change back to standard time
    expect(deadlineOf({ deadline: '06:00', timeZone: 'America/Toronto', dayOffset: 1 }, '2026-10-31').toISOString()).toBe('2026-11-01T11:00:00.000Z');
    expect(deadlineOf({ deadline: '06:00', timeZone: 'America/Toronto', dayOffset: 2 }, '2026-12-30').toISOString()).toBe('2027-01-01T11:00:00.000Z');
  });

  it('reads a cut-off as a deadline, keeping its day offset only when it has one', () => {
    expect(cutoffAsDeadline({ at: '20:30', timeZone: 'UTC', dayOffset: 1 })).toEqual({ deadline: '20:30', timeZone: 'UTC', dayOffset: 1 });
    expect(cutoffAsDeadline({ at: '20:30', timeZone: 'UTC' })).toEqual({ deadline: '20:30', timeZone: 'UTC' });
    expect(cutoffAsDeadline({ at: '20:30', timeZone: 'UTC' })).not.toHaveProperty('dayOffset');
  });

  it('lists the business dates whose deadline passed within the look-back, a day offset included', () => {
    const freshness = { deadline: '06:00', timeZone: 'UTC', dayOffset: 1 };
    // a date's deadline is 06:00Z the day after: the 20th's passed 47:59:59 ago, the 22nd's has not yet
    expect(datesPastDeadline(freshness, new Date('2026-11-23T05:59:59Z'))).toEqual([
      { date: '2026-11-20', deadline: new Date('2026-11-21T06:00:00Z') },
      { date: '2026-11-21', deadline: new Date('2026-11-22T06:00:00Z') },
    ]);
    expect(datesPastDeadline(freshness, new Date('2026-11-23T06:00:00Z')).map((d) => d.date)).toEqual(['2026-11-21', '2026-11-22']);
    expect(datesPastDeadline(freshness, new Date('2026-11-23T06:00:00Z'), 1).map((d) => d.date)).toEqual(['2026-11-22']);
  });

  it('lists a date whose deadline falls on the next UTC day in a zone west of UTC', () => {
    // 22:00 at UTC-8 is 06:00Z the next day (a fixed zone: real ones change their rules, as
    // Vancouver did in 2026)
    const freshness = { deadline: '22:00', timeZone: 'Etc/GMT+8' };
    expect(datesPastDeadline(freshness, new Date('2026-11-24T06:00:00Z'), 1)).toEqual([{ date: '2026-11-23', deadline: new Date('2026-11-24T06:00:00Z') }]);
    expect(datesPastDeadline(freshness, new Date('2026-11-24T05:59:00Z'), 1)).toEqual([{ date: '2026-11-22', deadline: new Date('2026-11-23T06:00:00Z') }]);
  });

  it('lists the dates of a zone east of UTC whose deadline passed before the UTC day began', () => {
    // 06:00 in Auckland (NZDT, UTC+13) is 17:00Z the day before
    const freshness = { deadline: '06:00', timeZone: 'Pacific/Auckland' };
    expect(datesPastDeadline(freshness, new Date('2026-11-23T17:00:00Z'), 1)).toEqual([{ date: '2026-11-24', deadline: new Date('2026-11-23T17:00:00Z') }]);
  });
});
