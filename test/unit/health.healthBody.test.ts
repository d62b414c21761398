// /healthz with purge windows: a node's next run is the first scheduled run inside a window
// (a tick outside them starts nothing), and the body says whether a window is open.
import { describe, expect, it } from 'vitest';
import type { ResolvedDaemon } from '../../src/config/resolvedConfig.js';
import { parseWindow, type PurgeWindow } from '../../src/core/purgeWindows.js';
import { healthBody, type HealthInputs } from '../../src/daemon/health.js';

const daemon = (windows: string[]): ResolvedDaemon => ({
  schedule: '5 * * * *',
  timezone: 'UTC',
  jitterMs: 0,
  drainTimeoutMs: 60_000,
  http: { host: '127.0.0.1', port: 9464 },
  stateDirectory: '/var/lib/mft-retention',
  windows: windows.map((w) => parseWindow(w) as PurgeWindow),
});

const inputs = (windows: string[], now: string, tick: string): HealthInputs => ({
  config: { file: '/etc/mft-retention/config.yaml', daemon: daemon(windows) },
  stopping: false,
  startedAt: new Date('2026-11-21T00:00:00Z'),
  now: new Date(now),
  workers: [{ name: 'node_1', lockState: 'held', isRunning: false, lastSuccessAt: undefined, lastRun: undefined }],
  nextTicks: new Map([['purge:node_1', new Date(tick)]]),
  stateProblems: [],
  alarms: [],
  alarmOutbox: {},
});

type Body = { nodes: Array<{ nextRun: string | null }>; purgeWindows?: Record<string, unknown> };

describe('healthBody', () => {
  it('without windows: the next run is the schedule\'s next tick, and no window is reported', () => {
    const body = healthBody(inputs([], '2026-11-21T10:07:30Z', '2026-11-21T11:05:00Z')).body as Body;
    expect(body.nodes[0]!.nextRun).toBe('2026-11-21T11:05:00.000Z');
    expect(body.purgeWindows).toBeUndefined();
  });

  it('outside the windows: the next run is the first tick inside the next window, and when it opens', () => {
    const body = healthBody(inputs(['01:00-05:00'], '2026-11-21T10:07:30Z', '2026-11-21T11:05:00Z')).body as Body;
    expect(body.nodes[0]!.nextRun).toBe('2026-11-22T01:05:00.000Z');
    expect(body.purgeWindows).toEqual({ windows: ['01:00-05:00'], open: false, opensAt: '2026-11-22T01:00:00.000Z' });
  });

  it('inside a window: the next tick, and when the window closes', () => {
    const body = healthBody(inputs(['01:00-05:00'], '2026-11-22T02:30:00Z', '2026-11-22T03:05:00Z')).body as Body;
    expect(body.nodes[0]!.nextRun).toBe('2026-11-22T03:05:00.000Z');
    expect(body.purgeWindows).toEqual({ windows: ['01:00-05:00'], open: true, closesAt: '2026-11-22T05:00:00.000Z' });
  });
});
