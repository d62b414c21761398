import { Duration } from 'luxon';
import { z } from 'zod';

const MAX_YEARS = 1000;

/**
 * The exact ISO-8601 duration grammar: a "T" must be followed by a time part (`P1DT` is a typo,
 * not `P1D`), and at least one part must be given.
 */
const ISO_DURATION = /^P(?=\d|T\d)(?:\d+(?:[.,]\d+)?Y)?(?:\d+(?:[.,]\d+)?M)?(?:\d+(?:[.,]\d+)?W)?(?:\d+(?:[.,]\d+)?D)?(?:T(?=\d)(?:\d+(?:[.,]\d+)?H)?(?:\d+(?:[.,]\d+)?M)?(?:\d+(?:[.,]\d+)?S)?)?$/;

export function isIsoDurationText(text: unknown): text is string {
  return typeof text === 'string' && ISO_DURATION.test(text);
}

/** Parses an ISO-8601 duration such as `PT36H`, `P30D`, `P1Y`; undefined if invalid or not positive. */
export function parseIsoDuration(text: string): Duration | undefined {
  if (!isIsoDurationText(text)) return undefined;
  const d = Duration.fromISO(text);
  if (!d.isValid) return undefined;
  const values = Object.values(d.toObject()) as number[];
  if (values.some((v) => v < 0) || values.every((v) => v === 0)) return undefined;
  // Longer than 1,000 years is a typo or meant "forever": say so rather than compute with it.
  if (d.as('years') > MAX_YEARS) return undefined;
  return d;
}

/** A duration from the config: the text as written (for messages and reports) and its value. */
export interface ConfigDuration {
  text: string;
  duration: Duration;
  ms: number;
}

/** A duration from text known to be valid (a default in the code, or text a schema has checked); zero allowed. */
export function fixedDuration(text: string): ConfigDuration {
  const duration = Duration.fromISO(text);
  if (!duration.isValid) throw new Error(`not an ISO-8601 duration: ${text}`);
  return { text, duration, ms: duration.as('milliseconds') };
}

/**
 * A config key holding a duration greater than zero. The refinement carries the message the
 * key reference prints; the transform turns the text, once, into its value.
 */
export const isoDuration = (what: string, examples = 'PT36H, P7D, P30D or P1Y') =>
  z
    .string()
    .refine((s) => parseIsoDuration(s) !== undefined, {
      message: `${what}: an ISO-8601 duration greater than zero and at most ${MAX_YEARS} years, such as ${examples}`,
    })
    .transform((text) => fixedDuration(text));

/** A duration that may be zero (PT0S), e.g. the daemon's jitter. */
export const isoDurationOrZero = (what: string) =>
  z
    .string()
    .refine((s) => isIsoDurationText(s) && Duration.fromISO(s).isValid && (Object.values(Duration.fromISO(s).toObject()) as number[]).every((v) => v >= 0), {
      message: `${what}: an ISO-8601 duration, zero or more, such as PT0S, PT2M or PT10M`,
    })
    .transform((text) => fixedDuration(text));
