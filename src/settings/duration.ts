/**
 * Durations: a decimal number and one unit, `ms`, `s`, `m` or `h` (`500ms`,
 * `1.5s`, `3m`, `1h`), as whole milliseconds. No bare numbers (is `30` ms or
 * seconds?), no signs, no compound `1m30s` (write `90s`). See docs/configuration.md.
 */
import { InvalidValue, quote } from './errors.js';
import type { Parser } from './parse.js';

/**
 * The longest delay a Node.js timer can hold (TIMEOUT_MAX): anything longer
 * fires after 1 ms, so `1000h` would flush every millisecond. In milliseconds (~24.8 days).
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

/** A duration in milliseconds, 1 ms .. MAX_TIMER_MS; `allowZero` admits `0s` where 0 means "at once". */
export function durationMs(opts: { allowZero?: boolean } = {}): Parser<number> {
  return (raw) => {
    const m = DURATION.exec(raw);
    const unit = m?.[2] === undefined ? undefined : UNIT_MS[m[2]];
    if (!m || unit === undefined) {
      throw new InvalidValue(
        `must be a duration with a unit (ms, s, m, h) such as 500ms, 30s or 3m, got ${quote(raw)}`,
      );
    }
    const ms = Number(m[1]) * unit;
    if (!Number.isInteger(ms)) throw new InvalidValue(`must be a whole number of milliseconds, got ${quote(raw)}`);
    if (ms === 0 && !opts.allowZero) throw new InvalidValue(`must be greater than zero, got ${quote(raw)}`);
    if (ms > MAX_TIMER_MS) {
      throw new InvalidValue(
        `must be at most ${MAX_TIMER_MS}ms (about 24.8 days, the longest Node.js timer), got ${quote(raw)}`,
      );
    }
    return ms;
  };
}

/** Most durations: greater than zero. */
export const positiveDuration: Parser<number> = durationMs();
/** Durations where 0 means "at once" (close wait, lease grace). */
export const duration: Parser<number> = durationMs({ allowZero: true });
