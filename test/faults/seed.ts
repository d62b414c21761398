// Seeded randomness for the fault-injection suite. Every randomized scenario prints its seed;
// FAULT_SEED=<n> replays a run exactly (same cut points, kill points and data), and
// FAULT_ITERATIONS=<n> raises (or lowers) the iteration count of the randomized loops.

/** The suite's seed: FAULT_SEED when given, else a fresh one (printed by each scenario). */
export function suiteSeed(): number {
  const fromEnv = process.env.FAULT_SEED;
  if (fromEnv !== undefined && fromEnv !== '') {
    const n = Number(fromEnv);
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`FAULT_SEED="${fromEnv}" is not a non-negative integer`);
    return n;
  }
  return Math.floor(Math.random() * 2 ** 31);
}

/** Iterations of a randomized loop: FAULT_ITERATIONS when given, else `dflt`. */
export function iterations(dflt: number): number {
  const fromEnv = process.env.FAULT_ITERATIONS;
  if (fromEnv === undefined || fromEnv === '') return dflt;
  const n = Number(fromEnv);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`FAULT_ITERATIONS="${fromEnv}" is not a positive integer`);
  return n;
}

/** A small deterministic PRNG (mulberry32): the same seed gives the same sequence on every machine. */
export class Rng {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [min, max] (both included). */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick of an empty list');
    return items[this.int(0, items.length - 1)]!;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  /** A derived generator, so that one iteration's draws do not shift the next one's. */
  fork(label: number): Rng {
    return new Rng((Math.imul(this.seed ^ 0x9e3779b9, 31) + label * 0x85ebca6b) >>> 0);
  }
}
