/** Whole numbers written in decimal digits only (no `1e3`, `0x10`, `+5`, `1_000`). */
import { InvalidValue, quote } from './errors.js';
import type { Parser } from './parse.js';

function wholeNumber(raw: string, what: string): number {
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n)) throw new InvalidValue(`must be ${what}, got ${quote(raw)}`);
  return n;
}

/** 1, 2, 3 ... */
export const positiveInt: Parser<number> = (raw) => {
  const n = wholeNumber(raw, 'a positive whole number');
  if (n < 1) throw new InvalidValue(`must be a positive whole number, got ${quote(raw)}`);
  return n;
};

/** 0, 1, 2 ... */
export const nonNegativeInt: Parser<number> = (raw) => wholeNumber(raw, 'a whole number (0 or more)');
