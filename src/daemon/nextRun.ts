import { createTask } from 'node-cron';

/**
 * The next instant after `from` that a node-cron schedule fires, for reports. node-cron only
 * says this for a running task, so this steps through time with the schedule's own matcher:
 * by minute for 5-field expressions (for up to a year), by second for 6-field ones (two days).
 */
export function nextScheduledRun(schedule: string, timezone: string, from: Date): Date | undefined {
  const task = createTask(schedule, () => undefined, { timezone });
  try {
    const seconds = schedule.trim().split(/\s+/).length === 6;
    const step = seconds ? 1000 : 60_000;
    const limit = seconds ? 2 * 86_400 : 366 * 1440;
    let t = Math.floor(from.getTime() / step) * step + step;
    for (let i = 0; i < limit; i++, t += step) {
      if (task.match(new Date(t))) return new Date(t);
    }
    return undefined;
  } finally {
    void task.destroy();
  }
}
