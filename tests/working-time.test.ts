import { describe, expect, it } from 'vitest';
import { addWorkingMinutes, parseWorkingHours, workingMinutesPerDay, type WorkingSchedule } from '../src/calendar/index.js';

/**
 * Deadlines in working time on the official calendar (chinese-days): office
 * hours 09:00-12:00 and 13:30-17:30 in Shanghai, 420 minutes a working day.
 * In 2026 National Day is 10-01..10-07 off, with Sunday 09-20 and Saturday
 * 10-10 declared working days; Mid-Autumn is 09-25..09-27 off.
 */
const office: WorkingSchedule = { alwaysWorking: false, periods: parseWorkingHours('09:00-12:00,13:30-17:30') };
const at = (shanghai: string) => new Date(`${shanghai}+08:00`);
const plus = (start: string, minutes: number, schedule: WorkingSchedule = office) => addWorkingMinutes(at(start), minutes, schedule).toISOString();

describe('addWorkingMinutes', () => {
  it.each([
    ['within a morning', '2026-11-20T09:30:00', 60, '2026-11-20T10:30:00'],
    ['up to noon exactly: the end of the period, not the start of the next', '2026-11-20T11:00:00', 60, '2026-11-20T12:00:00'],
    ['over lunch', '2026-11-20T11:30:00', 60, '2026-11-20T14:00:00'],
    ['from lunch time', '2026-11-20T12:30:00', 10, '2026-11-20T13:40:00'],
    ['from before the office opens', '2026-11-20T07:00:00', 30, '2026-11-20T09:30:00'],
    ['into the next morning', '2026-11-19T17:00:00', 60, '2026-11-20T09:30:00'],
    ['from late evening', '2026-11-19T22:00:00', 15, '2026-11-20T09:15:00'],
    ['over a weekend', '2026-11-20T17:00:00', 60, '2026-11-23T09:30:00'],
    ['from a Saturday', '2026-11-21T10:00:00', 10, '2026-11-23T09:10:00'],
    ['fractions of a minute', '2026-11-20T09:00:00', 0.5, '2026-11-20T09:00:30'],
    ['over Mid-Autumn (Fri 09-25 to Sun 09-27 off)', '2026-09-24T17:00:00', 60, '2026-09-28T09:30:00'],
    ['over National Day (10-01..10-07 off)', '2026-09-30T17:00:00', 120, '2026-10-08T10:30:00'],
    ['onto the adjusted working Saturday 2026-10-10', '2026-10-09T17:00:00', 60, '2026-10-10T09:30:00'],
    ['from the adjusted working Saturday over Sunday 10-11', '2026-10-10T17:00:00', 60, '2026-10-12T09:30:00'],
    ['onto the adjusted working Sunday 2026-09-20', '2026-09-19T10:00:00', 10, '2026-09-20T09:10:00'],
    ['five working days across the holiday', '2026-09-30T09:00:00', 5 * 420, '2026-10-12T17:30:00'],
    ['a whole day from mid-morning', '2026-11-20T10:00:00', 420, '2026-11-23T10:00:00'],
  ])('%s', (_name, start, minutes, due) => {
    expect(plus(start, minutes)).toBe(at(due).toISOString());
  });

  it('counts every minute for a 24/7 centre', () => {
    expect(plus('2026-10-01T23:30:00', 90, { alwaysWorking: true })).toBe(at('2026-10-02T01:00:00').toISOString());
  });

  it('refuses negative or non-finite minutes', () => {
    expect(() => plus('2026-11-20T09:00:00', -1)).toThrow(/working minutes/);
    expect(() => plus('2026-11-20T09:00:00', Number.NaN)).toThrow(/working minutes/);
  });
});

describe('working hours', () => {
  it('counts a working day in working minutes', () => {
    expect(workingMinutesPerDay(office)).toBe(420);
    expect(workingMinutesPerDay({ alwaysWorking: true })).toBe(1440);
  });

  it.each([
    ['nine-five', /not a period/],
    ['12:00-09:00', /ends before it starts/],
    ['09:00-12:00,11:00-13:00', /in order and must not overlap/],
    ['25:00-26:00', /not a time of day/],
    ['09:60-10:00', /not a time of day/],
  ])('rejects %s', (text, message) => {
    expect(() => parseWorkingHours(text)).toThrow(message);
  });

  it('accepts a day ending at 24:00', () => {
    expect(parseWorkingHours('00:00-24:00')).toEqual([{ from: 0, to: 1440 }]);
  });
});
