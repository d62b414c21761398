import { z } from 'zod';

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** A byte size from the config: a whole number of bytes, or a number with a unit (500MiB, 1.5TB; any case). */
export function parseByteSize(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(value);
  if (!m) return undefined;
  const factor = UNITS[(m[2] || 'b').toLowerCase()];
  if (factor === undefined) return undefined;
  const bytes = Math.round(Number(m[1]) * factor);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** A config key holding a byte size, at least `min` bytes: the one grammar of every size key. */
export const byteSize = (min = 0) =>
  z
    .union([z.number(), z.string()])
    .refine((v) => (parseByteSize(v) ?? -1) >= min, {
      message: `a size in bytes${min > 0 ? ` (at least ${min})` : ''}: a whole number, or a number with a unit such as 500MiB, 20GiB, 1.5TB`,
    })
    .transform((v) => parseByteSize(v)!);
