import { describe, expect, it } from 'vitest';
import { settledStatus } from '../../src/core/nodeStatus.js';
import { emptyStats } from '../../src/core/purgeStats.js';

const clean = emptyStats('im', '30d');
const withFailure = { ...emptyStats('group', '30d'), failed: { 'permission-denied': 1 } };
const withRowsPending = { ...emptyStats('persistent', '30d'), rowsPending: 2 };

describe('settledStatus', () => {
  it('keeps ok when every file went and every row with it', () => {
    expect(settledStatus('ok', [clean], false)).toBe('ok');
  });

  it('is partial when a file could not be removed or rows wait for the next run', () => {
    expect(settledStatus('ok', [clean, withFailure], false)).toBe('partial');
    expect(settledStatus('ok', [withRowsPending], false)).toBe('partial');
  });

  it('is refused when a limit refused any of it, partial or not', () => {
    expect(settledStatus('ok', [clean], true)).toBe('refused');
    expect(settledStatus('ok', [withFailure], true)).toBe('refused');
  });

  it('leaves a failed or stopped run as it is', () => {
    expect(settledStatus('failed', [withFailure], true)).toBe('failed');
    expect(settledStatus('stopped', [withRowsPending], true)).toBe('stopped');
  });
});
