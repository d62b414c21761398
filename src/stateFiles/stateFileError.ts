/**
 * A state file (purge history, alarm state, daemon state) that cannot be read or makes no
 * sense. The message names the file, what is wrong and the command that resets it; the
 * command line prints it without a stack and exits 2, as for a bad config.
 */
export class StateFileError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
    fix: string,
    options?: { cause?: unknown },
  ) {
    super(`the state file ${file} ${problem}; ${fix}`, options);
    this.name = 'StateFileError';
  }
}

/** What is wrong with a file that could not be read, in words ("is a directory", not EISDIR). */
export function describeReadError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'EISDIR':
      return 'is a directory, not a file';
    case 'EACCES':
    case 'EPERM':
      return 'cannot be read by this user (permission denied)';
    case 'EIO':
      return 'cannot be read (input/output error from the disk)';
    default:
      return `cannot be read (${code ?? (err as Error).message})`;
  }
}

/** Parses a state file's text as JSON, or says what is wrong with it in words. */
export function parseStateJson(text: string): { ok: true; value: unknown } | { ok: false; problem: string } {
  if (text.trim() === '') return { ok: false, problem: 'is empty' };
  // Binary content (a disk error, a file written over by something else) is not "JSON with a typo".
  if (text.includes('\u0000') || text.includes('\ufffd')) return { ok: false, problem: 'is not text (binary content)' };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, problem: `is not valid JSON, perhaps cut short (${(err as Error).message})` };
  }
}
