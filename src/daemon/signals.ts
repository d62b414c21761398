/** What signals come from: `process` in production, an EventEmitter in tests. */
export interface SignalSource {
  on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  off(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
}

export interface SignalHandlers {
  /** First SIGTERM or SIGINT: start the graceful shutdown (called once). */
  shutdown(signal: NodeJS.Signals): void;
  /** A repeat SIGTERM/SIGINT within the grace period: ignored, but worth a log line. */
  ignored(signal: NodeJS.Signals, graceLeftMs: number): void;
  /** A repeat SIGTERM/SIGINT after the grace period: give up on draining. */
  force(signal: NodeJS.Signals): void;
  /** SIGHUP: reload the config. Without it SIGHUP is left alone (a one-shot purge has nothing to reload). */
  reload?(): void;
}

export interface SignalOptions {
  /** Repeat stop signals are ignored this long after the first, so one impatient Ctrl-C does not abort a drain. @defaultValue 5000 */
  graceMs?: number;
  now?: () => number;
}

const STOP_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/**
 * Handles the daemon's signals, once, at the edge (graphile-worker's scheme): the first stop
 * signal starts a graceful shutdown; repeats are ignored for `graceMs`; after that, another one
 * forces the exit. Returns a function that removes the listeners.
 */
export function handleSignals(source: SignalSource, handlers: SignalHandlers, opts: SignalOptions = {}): () => void {
  const graceMs = opts.graceMs ?? 5000;
  const now = opts.now ?? Date.now;
  let firstAt: number | undefined;
  const onStop = (signal: NodeJS.Signals): void => {
    if (firstAt === undefined) {
      firstAt = now();
      handlers.shutdown(signal);
      return;
    }
    const left = firstAt + graceMs - now();
    if (left > 0) handlers.ignored(signal, left);
    else handlers.force(signal);
  };
  const reload = handlers.reload?.bind(handlers);
  const onHup = (): void => reload?.();
  for (const s of STOP_SIGNALS) source.on(s, onStop);
  if (reload) source.on('SIGHUP', onHup);
  return () => {
    for (const s of STOP_SIGNALS) source.off(s, onStop);
    if (reload) source.off('SIGHUP', onHup);
  };
}
