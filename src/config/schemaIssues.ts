import type { z } from 'zod';

/** What a cross-field rule adds to its message: the value as it should be shown, and the fix. */
export interface IssueDetail {
  /** Shown instead of the value at the key (which may be a whole section). */
  value?: string;
  fix?: string;
}

/** Reports a problem at `path` (relative to the value being resolved), expecting `expected`. */
export type Report = (path: ReadonlyArray<string | number>, expected: string, detail?: IssueDetail) => void;

/**
 * A Report that adds to the issues zod is collecting, so that a cross-field rule's problem
 * comes back with its file, line and key like any other (problemsFromZod).
 */
export function reporter(ctx: { issues: z.core.$ZodRawIssue[] }): Report {
  return (path, expected, detail = {}) => {
    const duplicate = ctx.issues.some((i) => i.code === 'custom' && i.message === expected && sameKey(i.path ?? [], path));
    if (!duplicate) ctx.issues.push({ code: 'custom', message: expected, path: [...path], input: undefined, params: { ...detail } });
  };
}

const sameKey = (a: ReadonlyArray<PropertyKey>, b: ReadonlyArray<PropertyKey>): boolean => a.length === b.length && a.every((s, i) => s === b[i]);
