import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { handleSignals } from '../../src/daemon/signals.js';

function setup(graceMs = 5000) {
  const source = new EventEmitter();
  let t = 1_000;
  const calls: string[] = [];
  const dispose = handleSignals(
    source as never,
    {
      shutdown: (s) => calls.push(`shutdown:${s}`),
      ignored: (s, left) => calls.push(`ignored:${s}:${left}`),
      force: (s) => calls.push(`force:${s}`),
      reload: () => calls.push('reload'),
    },
    { graceMs, now: () => t },
  );
  const emit = (s: NodeJS.Signals): void => void source.emit(s, s);
  return { source, calls, dispose, emit, advance: (ms: number) => (t += ms) };
}

describe('handleSignals', () => {
  it('starts the graceful shutdown once, ignores repeats within the grace period, forces after it', () => {
    const s = setup();
    s.emit('SIGTERM');
    s.advance(1000);
    s.emit('SIGINT');
    s.advance(4000);
    s.emit('SIGTERM');
    expect(s.calls).toEqual(['shutdown:SIGTERM', 'ignored:SIGINT:4000', 'force:SIGTERM']);
  });

  it('reloads on every SIGHUP, also while stopping', () => {
    const s = setup();
    s.emit('SIGHUP');
    s.emit('SIGINT');
    s.emit('SIGHUP');
    expect(s.calls).toEqual(['reload', 'shutdown:SIGINT', 'reload']);
  });

  it('removes its listeners when disposed', () => {
    const s = setup();
    s.dispose();
    expect(s.source.listenerCount('SIGTERM') + s.source.listenerCount('SIGINT') + s.source.listenerCount('SIGHUP')).toBe(0);
  });
});
