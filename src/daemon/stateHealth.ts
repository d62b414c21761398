import { hostname } from 'node:os';
import type { Observation } from '../alarms/alarmState.js';

export interface StateWriteProblem {
  file: string;
  error: string;
  since: string;
}

/**
 * Which state files the daemon cannot write right now (read-only or full directory), for
 * /healthz and the MFTRetentionStateWriteError alarm. Each writer reports its own file: an
 * error when a write fails, undefined when one works again.
 */
export class StateWriteHealth {
  private readonly problems = new Map<string, StateWriteProblem>();

  constructor(private readonly onChange: (observation: Observation) => void) {}

  report(file: string, error?: Error): void {
    const had = this.problems.size > 0;
    if (error) {
      if (this.problems.has(file)) return;
      this.problems.set(file, { file, error: (error as NodeJS.ErrnoException).code ?? error.message, since: new Date().toISOString() });
    } else if (!this.problems.delete(file)) {
      return;
    }
    const has = this.problems.size > 0;
    if (has || had) this.onChange(this.observation());
  }

  list(): StateWriteProblem[] {
    return [...this.problems.values()];
  }

  private observation(): Observation {
    const list = this.list();
    return {
      key: { name: 'MFTRetentionStateWriteError', node: hostname() },
      cause: 'write',
      verdict: list.length > 0 ? 'raise' : 'clear',
      value: list.length > 0 ? list.map((p) => `cannot write ${p.file} (${p.error})`).join('; ') : 'every state file written',
      threshold: 'every write of the state directory succeeds',
      at: new Date(),
    };
  }
}
