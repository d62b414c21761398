import { describe, expect, it } from 'vitest';
import { approvalInstant, formatApproval, parseApproval } from '../../src/core/approval.js';

describe('approval tokens', () => {
  it('round-trip: node, scope, files, bytes and the instant to the second', () => {
    const a = { node: 'node_1.dc-2', scope: 'im' as const, files: 12000, bytes: 734003200, asOf: approvalInstant(new Date('2026-11-21T05:42:16.789Z')) };
    const token = formatApproval(a);
    expect(token).toBe('node_1.dc-2:im:12000:734003200:20261121T054216Z');
    expect(parseApproval(token)).toEqual(a);
  });

  it('binds a token to a plan by the first 16 hex digits of its checksum', () => {
    const a = { node: 'node_1', scope: 'all' as const, files: 3, bytes: 3000, asOf: approvalInstant(new Date('2026-11-21T05:42:16Z')), plan: '0123456789abcdef' };
    const token = formatApproval(a);
    expect(token).toBe('node_1:all:3:3000:20261121T054216Z:plan-0123456789abcdef');
    expect(parseApproval(token)).toEqual(a);
    expect(parseApproval('node_1:all:3:3000:20261121T054216Z:plan-0123')).toContain('the first 16 hex digits');
    expect(parseApproval('node_1:all:3:3000:20261121T054216Z:0123456789abcdef')).toContain('should be plan-');
  });

  it('accepts the node-wide scope "all"', () => {
    expect(parseApproval('n:all:1:2:20260101T000000Z')).toMatchObject({ scope: 'all' });
  });

  it.each([
    ['n:im:1:2', 'NODE:SCOPE:FILES:BYTES:TIME'],
    ['n:chat:1:2:20260101T000000Z', 'scope "chat"'],
    ['n:im:1.5:2:20260101T000000Z', 'whole numbers'],
    ['n:im:1:2:20260230T000000Z', 'not a time'],
    ['n:im:1:2:2026-01-01', 'not a time'],
    [':im:1:2:20260101T000000Z', 'no node'],
  ])('rejects %s, saying what is wrong', (token, text) => {
    const r = parseApproval(token);
    expect(typeof r).toBe('string');
    expect(r).toContain(text);
  });
});
