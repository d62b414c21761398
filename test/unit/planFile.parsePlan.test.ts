import { describe, expect, it } from 'vitest';
import { canonicalJson, configFingerprint, parsePlan, planChecksum, PlanError, rowDigest, sealPlan, shortChecksum, type PlanBody } from '../../src/core/planFile.js';

const DIR = '/opt/mftFileStore/node_1';
const path = `${DIR}/files/im/20250301/10/a.txt`;
const row = { aftIndex: '7', method: 'Post', chatType: 'im', filePath: path, uploadedAt: new Date('2025-03-01T10:20:30.400Z'), fileSize: 10, bytesTransferred: 10, jid: 'a@example.com', toJid: 'b@example.com' };

const body = (): PlanBody => ({
  format: 'mft-retention-plan',
  version: 1,
  createdAt: '2025-03-10T08:00:00.000Z',
  asOf: '2025-03-10T08:00:00.000Z',
  simulated: false,
  node: 'node_1',
  configFile: '/etc/mft-retention/config.yaml',
  configFingerprint: 'f'.repeat(64),
  rules: {
    nodeDirectory: DIR,
    currentHourStart: '2025-03-10T08:00:00.000Z',
    chatTypes: [{ chatType: 'im', retention: 'P7D', retentionCutoff: '2025-03-03T08:00:00.000Z', keepAfterLastDownload: null, highWaterIndex: '9007199254740993', files: 1, bytes: 10, rows: 1 }],
    holds: [],
    limits: { maxFiles: null },
  },
  files: [{ chatType: 'im', path, size: 10, uploadedAt: row.uploadedAt.toISOString(), aftIndex: '7', rows: [{ aftIndex: '7', method: 'Post', at: row.uploadedAt.toISOString(), digest: rowDigest(row) }], onServer: { type: 'file', size: 10, mtime: '2025-03-01T10:20:31.000Z' } }],
});

describe('canonicalJson and the checksum', () => {
  it('gives the same bytes whatever the key order or indentation', () => {
    expect(canonicalJson({ b: 1, a: [{ d: null, c: 'x' }], e: undefined })).toBe('{"a":[{"c":"x","d":null}],"b":1}');
    const plan = sealPlan(body());
    const reverse = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(reverse) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reverse(x)])) : v;
    const reordered = JSON.parse(JSON.stringify(reverse(plan), null, 4));
    expect(Object.keys(reordered)[0]).toBe('checksum');
    expect(planChecksum(reordered)).toBe(plan.checksum);
    expect(plan.checksum).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(shortChecksum(plan.checksum)).toHaveLength(16);
  });

  it('a plan written and read back is the same plan', () => {
    const plan = sealPlan(body());
    expect(parsePlan(JSON.stringify(plan, null, 2), 'p.json')).toEqual(plan);
  });
});

describe('parsePlan refuses', () => {
  const sealed = () => sealPlan(body());
  const refused = (text: string) => {
    try {
      parsePlan(text, '/srv/plans/p.json');
    } catch (err) {
      expect(err).toBeInstanceOf(PlanError);
      return (err as Error).message;
    }
    throw new Error('accepted');
  };

  it('a plan edited by hand, naming both checksums', () => {
    const plan = sealed();
    plan.files[0]!.path = `${DIR}/files/im/20250301/10/other.txt`;
    const message = refused(JSON.stringify(plan));
    expect(message).toContain('/srv/plans/p.json was changed after it was written');
    expect(message).toContain(`its checksum is ${plan.checksum}`);
  });

  it('a file that is not JSON, another format, another version, a missing checksum', () => {
    expect(refused('{"format":')).toMatch(/is not a plan file: not JSON/);
    expect(refused(JSON.stringify({ ...sealed(), format: 'x' }))).toMatch(/format is "x"; expected "mft-retention-plan"/);
    expect(refused(JSON.stringify({ ...sealed(), version: 2 }))).toMatch(/version is 2; expected 1/);
    const { checksum: _c, ...noChecksum } = sealed();
    expect(refused(JSON.stringify(noChecksum))).toMatch(/checksum is missing; expected "sha256:" and 64 hex digits/);
  });

  it('a plan whose content is wrong even with a matching checksum', () => {
    const b = body();
    b.files.push({ ...b.files[0]! });
    expect(refused(JSON.stringify(sealPlan(b)))).toMatch(/files\[1\]\.path .*expected each path once/);
    const c = body();
    c.files[0]!.rows = [{ ...c.files[0]!.rows[0]!, aftIndex: '8' }];
    expect(refused(JSON.stringify(sealPlan(c)))).toMatch(/files\[0\]\.rows .*expected a list holding the file's own aft_index 7/);
    const d = body();
    (d.files[0] as { chatType: string }).chatType = 'persistent';
    expect(refused(JSON.stringify(sealPlan(d)))).toMatch(/files\[0\]\.chatType is "persistent"; expected one of the plan's chat types \(im\)/);
  });
});

describe('rowDigest', () => {
  it('changes with any column the purge compares', () => {
    const d = rowDigest(row);
    for (const change of [{ method: 'Get' }, { chatType: 'groupchat' }, { filePath: `${path}x` }, { uploadedAt: new Date(row.uploadedAt.getTime() + 1) }, { fileSize: 11 }, { bytesTransferred: 9 }, { jid: 'c@example.com' }, { toJid: 'c@example.com' }, { aftIndex: '8' }]) {
      expect(rowDigest({ ...row, ...change }), JSON.stringify(change)).not.toBe(d);
    }
    expect(rowDigest({ ...row })).toBe(d);
  });
});

describe('configFingerprint', () => {
  const node = {
    name: 'node_1',
    database: { type: 'postgres', host: 'db', port: 5432, database: 'mft', schema: 'public', table: 'aft_log', timestampZone: 'UTC' },
    fileServer: { type: 'sftp', host: 'fs', port: 22, directory: DIR },
    policies: { im: { retentionText: 'P7D' } },
  };
  it('changes with the node, database, directory and policies, not with anything else given', () => {
    const f = configFingerprint(node);
    expect(configFingerprint({ ...node, policies: { im: { retentionText: 'P7D' } } })).toBe(f);
    expect(configFingerprint({ ...node, name: 'node_2' })).not.toBe(f);
    expect(configFingerprint({ ...node, database: { ...node.database, database: 'other' } })).not.toBe(f);
    expect(configFingerprint({ ...node, fileServer: { ...node.fileServer, directory: `${DIR}x` } })).not.toBe(f);
    expect(configFingerprint({ ...node, policies: { im: { retentionText: 'P8D' } } })).not.toBe(f);
    expect(configFingerprint({ ...node, policies: { im: { retentionText: 'P7D', keepAfterLastDownloadText: 'P1D' } } })).not.toBe(f);
    expect(configFingerprint({ ...node, policies: { im: { retentionText: 'P7D' }, groupchat: { retentionText: 'P1D' } } })).not.toBe(f);
  });
});
