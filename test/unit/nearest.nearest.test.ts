import { describe, it, expect } from 'vitest';
import { editDistance, nearest } from '../../src/core/nearest.js';

describe('nearest', () => {
  it('finds the key a typo was meant to be', () => {
    expect(nearest('batchSiz', ['batchSize', 'limits', 'maxClockSkew'])).toBe('batchSize');
    expect(nearest('retension', ['chatType', 'retention', 'description'])).toBe('retention');
    expect(nearest('hots', ['host', 'port', 'user'])).toBe('host');
  });

  it('counts a swap of two neighbouring letters as one edit', () => {
    expect(editDistance('dyr-run', 'dry-run')).toBe(1);
  });

  it('offers nothing when no candidate is close', () => {
    expect(nearest('zzzzqqq', ['batchSize', 'limits'])).toBeUndefined();
    expect(nearest('x', [])).toBeUndefined();
  });

  it('ignores case when comparing', () => {
    expect(nearest('BATCHSIZE', ['batchSize'])).toBe('batchSize');
  });
});
