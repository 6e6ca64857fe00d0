// The access line's time is what `Date.prototype.toISOString` writes for the same instant (the oracle), whichever
// second came before: across second, day and year boundaries, before 1970 and outside years 0000–9999.
import t from 'tap';
import { isoTimeOf } from '../../../src/record/access-log.js';

t.test('isoTimeOf(ms) equals new Date(ms).toISOString()', async (t) => {
  const instants: number[] = [];
  const around = [
    0,
    Date.UTC(2026, 11, 7, 23, 59, 59, 999),
    Date.UTC(2026, 11, 31, 23, 59, 59, 990),
    Date.UTC(2028, 1, 29, 12, 0, 0, 0),
    Date.UTC(1969, 11, 31, 23, 59, 59, 999),
    Date.UTC(9999, 11, 31, 23, 59, 59, 999),
    -62_167_219_200_000, // 0000-01-01
    8.64e15 - 1500,
    -8.64e15 + 1500,
  ];
  for (const base of around) for (let d = -1500; d <= 1500; d += 7) instants.push(base + d);
  let x = 12345;
  for (let i = 0; i < 5000; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    instants.push(Date.UTC(2000, 0, 1) + x * 997);
  }
  let mismatches = 0;
  for (const ms of instants) {
    if (Math.abs(ms) > 8.64e15) continue;
    if (isoTimeOf(ms) !== new Date(ms).toISOString()) mismatches++;
  }
  t.equal(mismatches, 0, `${instants.length} instants`);
  t.equal(isoTimeOf(Date.UTC(2026, 11, 7, 23, 30, 1, 5)), '2026-12-07T23:30:01.005Z');
  t.equal(isoTimeOf(Date.UTC(2026, 11, 7, 23, 30, 1, 50)), '2026-12-07T23:30:01.050Z');
  t.equal(isoTimeOf(Date.UTC(2026, 11, 7, 23, 30, 1, 0)), '2026-12-07T23:30:01.000Z');
});
