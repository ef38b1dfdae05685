/**
 * Byte sizes as Kubernetes writes memory quantities, so the same value fits a
 * pod spec and a sidecar setting: plain bytes (`268435456`), binary suffixes
 * `Ki Mi Gi Ti` (powers of 1024) or decimal `k M G T` (powers of 1000).
 * `MB`, `MiB` and `1 GB` are refused rather than guessed (see docs/configuration.md).
 */
import { InvalidValue, quote } from './errors.js';
import type { Parser } from './parse.js';

const UNIT_BYTES: Readonly<Record<string, number>> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};
const SIZE = /^(\d+(?:\.\d+)?)(|k|M|G|T|Ki|Mi|Gi|Ti)$/;

/** A size in whole bytes, at least 1. */
export const byteSize: Parser<number> = (raw) => {
  const m = SIZE.exec(raw);
  const unit = m?.[2] === undefined ? undefined : UNIT_BYTES[m[2]];
  if (!m || unit === undefined) {
    throw new InvalidValue(
      `must be a size such as 268435456, 64Mi or 1Gi (Ki Mi Gi Ti, or k M G T), got ${quote(raw)}`,
    );
  }
  const bytes = Number(m[1]) * unit;
  if (!Number.isSafeInteger(bytes)) throw new InvalidValue(`must be a whole number of bytes, got ${quote(raw)}`);
  if (bytes < 1) throw new InvalidValue(`must be greater than zero, got ${quote(raw)}`);
  return bytes;
};
