/** A function that runs each `fn` given to it when every one given before has finished (settled). */
export type OneAtATime = <T>(fn: () => Promise<T>) => Promise<T>;

/**
 * Calls on one database connection must not interleave (a transaction's statements with
 * another call's): each waits for the previous, whether that one succeeded or failed.
 */
export function oneAtATime(): OneAtATime {
  let turn: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const run = turn.then(fn, fn);
    turn = run.catch(() => undefined);
    return run;
  };
}
