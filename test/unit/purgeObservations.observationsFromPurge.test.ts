import { describe, expect, it } from 'vitest';
import { observationsFromPurge } from '../../src/alarms/purgeObservations.js';
import { ConnectError, DatabaseFullError, HostKeyMismatchError } from '../../src/errors.js';
import type { NodeResult } from '../../src/purge/purgeNode.js';
import { emptyStats } from '../../src/core/purgeStats.js';
import type { Refusal } from '../../src/core/limits.js';

const NOW = new Date('2026-03-01T10:00:00Z');
const result = (o: Partial<NodeResult> & Record<string, unknown>): NodeResult => ({ node: 'n1', status: 'ok', chatTypes: [emptyStats('im', 'P7D'), emptyStats('groupchat', 'P7D')], startedAt: NOW, finishedAt: NOW, ...o }) as NodeResult;
const brief = (r: NodeResult) => observationsFromPurge(r, NOW).map((o) => `${o.verdict} ${o.key.name}${o.key.chatType ? `/${o.key.chatType}` : ''} ${o.cause}`);

describe('observationsFromPurge', () => {
  it('a run that got through clears the connection alarms and the disk-full cause', () => {
    const got = brief(result({}));
    expect(got).toContain('clear XcpMFTDBConnectError connect');
    expect(got).toContain('clear XcpMFTExtFsMountError connect');
    expect(got).toContain('clear XcpMFTDBFullError sqlstate');
    expect(got.filter((g) => g.startsWith('raise'))).toEqual([]);
  });

  it('a host key mismatch raises the file-server alarm and clears nothing', () => {
    const got = brief(result({ status: 'failed', error: new HostKeyMismatchError('n1', 'SHA256:a', 'SHA256:b') }));
    expect(got).toEqual(['raise XcpMFTExtFsMountError connect']);
  });

  it('a lost database raises the database connection alarm', () => {
    expect(brief(result({ status: 'failed', error: new ConnectError('database', 'n1', 'gone') }))).toEqual(['raise XcpMFTDBConnectError connect']);
  });

  it('SQLSTATE 53100 raises XcpMFTDBFullError, and shows the database was reachable', () => {
    expect(brief(result({ status: 'failed', error: new DatabaseFullError('n1', 'full') }))).toEqual(['raise XcpMFTDBFullError sqlstate', 'clear XcpMFTDBConnectError connect']);
  });

  it('a refused chat type raises XcpMFTPurgeRefusedWarn for it and clears the scopes that went ahead', () => {
    const refused: Refusal[] = [{ node: 'n1', chatType: 'im', limit: 'maxTimesUsual', measured: 5000, threshold: 500, unit: 'files', files: 5000, bytes: 1, message: 'im: 5000 files, more than 10 x the usual 50', fix: 'approve' }];
    const got = brief(result({ status: 'refused', refused }));
    expect(got).toContain('raise XcpMFTPurgeRefusedWarn/im refused');
    expect(got).toContain('clear XcpMFTPurgeRefusedWarn/groupchat refused');
    expect(got).toContain('clear XcpMFTPurgeRefusedWarn/all refused');
    expect(got).not.toContain('clear XcpMFTPurgeRefusedWarn/im refused');
    expect(observationsFromPurge(result({ status: 'refused', refused }), NOW).find((o) => o.verdict === 'raise')!.value).toBe('im: 5000 files, more than 10 x the usual 50');
  });

  it('a node-wide refusal (scope all) clears no chat type', () => {
    const refused: Refusal[] = [{ node: 'n1', chatType: 'all', limit: 'maxFiles', measured: 9, threshold: 1, unit: 'files', files: 9, bytes: 9, message: 'cap', fix: 'approve' }];
    const got = brief(result({ status: 'refused', refused }));
    expect(got.filter((g) => g.includes('PurgeRefused'))).toEqual(['raise XcpMFTPurgeRefusedWarn/all refused']);
  });
});
