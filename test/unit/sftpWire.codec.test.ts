import { describe, expect, it } from 'vitest';
import { attrsOf, encodeInit, firstNameOf, FX, FXP, packetId, packetType, ReplyDecoder, RequestEncoder, statusCodeOf, statusOf, versionOf } from '../../src/adapters/sftp/wire.js';

/** An SFTP packet as the server would send it: uint32 length, type, then the payload parts. */
function packet(type: number, ...parts: Array<number | string>): Buffer {
  const body = parts.map((p) => {
    if (typeof p === 'number') {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(p);
      return b;
    }
    const s = Buffer.from(p, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(s.length);
    return Buffer.concat([len, s]);
  });
  const payload = Buffer.concat([Buffer.from([type]), ...body]);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(payload.length);
  return Buffer.concat([len, payload]);
}

type Seen = { type: number; id?: number; start: number; end: number; buf: Buffer };

function decodeAll(chunks: Buffer[]): Seen[] {
  const d = new ReplyDecoder();
  const seen: Seen[] = [];
  for (const c of chunks) d.push(c, (buf, start, end) => seen.push({ type: packetType(buf, start), id: packetType(buf, start) === FXP.VERSION ? undefined : packetId(buf, start), start, end, buf: Buffer.from(buf) }));
  return seen;
}

describe('RequestEncoder', () => {
  it('encodes a REMOVE as length, type, id and the path as an SFTP string', () => {
    const e = new RequestEncoder();
    e.pathRequest(FXP.REMOVE, 7, '/srv/a.png');
    const b = e.take();
    expect(b.readUInt32BE(0)).toBe(b.length - 4);
    expect(b[4]).toBe(FXP.REMOVE);
    expect(b.readUInt32BE(5)).toBe(7);
    expect(b.readUInt32BE(9)).toBe(10);
    expect(b.subarray(13).toString()).toBe('/srv/a.png');
  });

  it('counts a path of multi-byte characters in bytes, not characters', () => {
    const e = new RequestEncoder();
    const path = '/srv/files/im/20261101/08/Überprüfung – 報告.pdf';
    e.pathRequest(FXP.REALPATH, 1, path);
    const b = e.take();
    expect(b.readUInt32BE(9)).toBe(Buffer.byteLength(path));
    expect(b.subarray(13).toString('utf8')).toBe(path);
    expect(b.readUInt32BE(0)).toBe(b.length - 4);
  });

  it('puts many requests back to back in one buffer, growing past its first size, and starts empty after take()', () => {
    const e = new RequestEncoder(16);
    const paths = Array.from({ length: 500 }, (_, i) => `/srv/node/files/im/20261101/08/file-${i}.dat`);
    paths.forEach((p, i) => e.pathRequest(FXP.REMOVE, i + 1, p));
    const b = e.take();
    expect(e.length).toBe(0);
    const ids: number[] = [];
    const got: string[] = [];
    for (let p = 0; p < b.length; ) {
      const len = b.readUInt32BE(p);
      ids.push(b.readUInt32BE(p + 5));
      got.push(b.toString('utf8', p + 13, p + 4 + len));
      p += 4 + len;
    }
    expect(ids).toEqual(paths.map((_, i) => i + 1));
    expect(got).toEqual(paths);
  });

  it('encodes INIT for version 3', () => {
    expect([...encodeInit()]).toEqual([0, 0, 0, 5, FXP.INIT, 0, 0, 0, 3]);
  });
});

describe('ReplyDecoder', () => {
  const replies = Buffer.concat([
    packet(FXP.VERSION, 3, 'posix-rename@openssh.com', '1'),
    packet(FXP.STATUS, 1, FX.OK, 'Success', ''),
    packet(FXP.STATUS, 2, FX.NO_SUCH_FILE, 'No such file', ''),
    packet(FXP.NAME, 3, 1, '/srv/real/files/im/20261101/08', '', 0),
  ]);

  it('decodes a version, statuses with their codes and messages, and a REALPATH name', () => {
    const seen = decodeAll([replies]);
    expect(seen.map((s) => s.type)).toEqual([FXP.VERSION, FXP.STATUS, FXP.STATUS, FXP.NAME]);
    const [v, ok, missing, name] = seen;
    expect(versionOf(v!.buf, v!.start, v!.end)).toBe(3);
    expect(ok!.id).toBe(1);
    expect(statusCodeOf(ok!.buf, ok!.start, ok!.end)).toBe(FX.OK);
    expect(missing!.id).toBe(2);
    expect(statusOf(missing!.buf, missing!.start, missing!.end)).toEqual({ code: FX.NO_SUCH_FILE, message: 'No such file' });
    expect(name!.id).toBe(3);
    expect(firstNameOf(name!.buf, name!.start, name!.end)).toBe('/srv/real/files/im/20261101/08');
  });

  it('gives the same packets whatever byte the stream is split at', () => {
    const whole = decodeAll([replies]).map((s) => s.buf.subarray(s.start, s.end).toString('hex'));
    for (let cut = 1; cut < replies.length; cut++) {
      const split = decodeAll([replies.subarray(0, cut), replies.subarray(cut)]).map((s) => s.buf.subarray(s.start, s.end).toString('hex'));
      expect(split, `split at byte ${cut}`).toEqual(whole);
    }
    const bytewise = decodeAll([...replies].map((b) => Buffer.from([b]))).map((s) => s.buf.subarray(s.start, s.end).toString('hex'));
    expect(bytewise).toEqual(whole);
  });

  it('accepts a status without message and language tag (older servers)', () => {
    const [s] = decodeAll([packet(FXP.STATUS, 9, FX.FAILURE)]);
    expect(statusOf(s!.buf, s!.start, s!.end)).toEqual({ code: FX.FAILURE, message: '' });
  });

  it('refuses a length no SFTP packet has (the stream is not SFTP)', () => {
    const d = new ReplyDecoder();
    const huge = Buffer.from([0x7f, 0xff, 0xff, 0xff, FXP.STATUS]);
    expect(() => d.push(huge, () => undefined)).toThrow(/malformed SFTP packet/);
    expect(() => new ReplyDecoder().push(Buffer.from([0, 0, 0, 1, FXP.STATUS]), () => undefined)).toThrow(/malformed SFTP packet/);
  });

  it('refuses a string that runs past the end of its packet', () => {
    const bad = packet(FXP.NAME, 3, 1, '/srv/x', '', 0);
    bad.writeUInt32BE(1000, 4 + 1 + 4 + 4); // the name's length, past the end
    const [s] = decodeAll([bad]);
    expect(() => firstNameOf(s!.buf, s!.start, s!.end)).toThrow(/truncated/);
  });
});

describe('attrsOf (the reply to LSTAT)', () => {
  const at = (b: Buffer) => attrsOf(b, 4, b.length);
  it('reads a size beyond 2^32, the permissions and the modification time, skipping uid/gid and atime', () => {
    // flags SIZE | UIDGID | PERMISSIONS | ACMODTIME; size 5,000,000,000 = 1 * 2^32 + 705,032,704
    const b = packet(FXP.ATTRS, 9, 0x1 | 0x2 | 0x4 | 0x8, 1, 705_032_704, 1000, 1000, 0o100644, 1_700_000_000, 1_700_000_123);
    expect(at(b)).toEqual({ size: 5_000_000_000, permissions: 0o100644, mtime: 1_700_000_123 });
  });
  it('gives only what the flags say the server sent', () => {
    expect(at(packet(FXP.ATTRS, 9, 0x4, 0o120777))).toEqual({ permissions: 0o120777 });
    expect(at(packet(FXP.ATTRS, 9, 0))).toEqual({});
  });
  it('refuses a truncated reply', () => {
    expect(() => at(packet(FXP.ATTRS, 9, 0x1 | 0x8, 0, 10, 1))).toThrow(/truncated/);
  });
});
