import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './duration.ts';

describe('parseDuration', () => {
  it.each([
    ['30m', 30 * 60_000],
    ['1h30m', 90 * 60_000],
    ['90s', 90_000],
    ['1.5h', 90 * 60_000],
    ['250ms', 250],
  ])('%s → %i ms', (text, want) => {
    expect(parseDuration(text)).toBe(want);
  });

  it.each(['', '30', 'm', '30 minutes', '1d', '5m junk'])('refuses %j with examples', (text) => {
    expect(() => parseDuration(text)).toThrow(/not a duration.*30m/);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [90_000, '1m30s'],
    [3_600_000, '1h'],
    [5_400_000, '1h30m'],
  ])('%i ms → %s', (ms, want) => {
    expect(formatDuration(ms)).toBe(want);
  });
});
