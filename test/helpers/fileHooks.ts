// Something a test file starts once, before its first test, and ends after its last.
import { afterAll, beforeAll } from 'vitest';

/**
 * Registers the beforeAll that starts it and the afterAll that ends it (when it started), and
 * returns its reader. Read it inside the tests and later hooks: before it is up, or when it
 * failed to start, the reader throws, naming `what`.
 */
export function startedForFile<T>(what: string, start: () => Promise<T>, end: (it: T) => Promise<unknown>): () => T {
  let started: { it: T } | undefined;
  beforeAll(async () => {
    started = { it: await start() };
  });
  afterAll(async () => {
    if (started) await end(started.it);
  });
  return () => {
    if (!started) throw new Error(`${what} is not running: it starts in the file's beforeAll; read it inside a test or a later hook`);
    return started.it;
  };
}
