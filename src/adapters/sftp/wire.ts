/**
 * SFTP version 3 (draft-ietf-secsh-filexfer-02) packets, as OpenSSH's sftp-server speaks them:
 * only the requests the purge sends by the thousand, encoded many to one buffer, and the
 * replies to them. Pure: bytes in, values out.
 *
 * Every packet is `uint32 length, byte type, payload`; strings are `uint32 length, bytes`.
 */

export const FXP = {
  INIT: 1,
  VERSION: 2,
  LSTAT: 7,
  REMOVE: 13,
  RMDIR: 15,
  REALPATH: 16,
  STATUS: 101,
  NAME: 104,
  ATTRS: 105,
} as const;

/** Status codes of SSH_FXP_STATUS (the same numbers ssh2 puts in `err.code`). */
export const FX = {
  OK: 0,
  EOF: 1,
  NO_SUCH_FILE: 2,
  PERMISSION_DENIED: 3,
  FAILURE: 4,
  BAD_MESSAGE: 5,
  OP_UNSUPPORTED: 8,
} as const;

/** The requests that take one path and an id. */
export type PathRequest = typeof FXP.REMOVE | typeof FXP.RMDIR | typeof FXP.REALPATH | typeof FXP.LSTAT;

/** The INIT packet: the client speaks version 3. */
export function encodeInit(): Buffer {
  const b = Buffer.allocUnsafe(9);
  b.writeUInt32BE(5, 0);
  b[4] = FXP.INIT;
  b.writeUInt32BE(3, 5);
  return b;
}

/**
 * Appends requests to one buffer, growing it as needed, so that many requests leave in one
 * SSH packet (one encryption, one write) instead of one each.
 */
export class RequestEncoder {
  private buf: Buffer;
  private pos = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  get length(): number {
    return this.pos;
  }

  /** `type, id, string path`. */
  pathRequest(type: PathRequest, id: number, path: string): void {
    const pathBytes = Buffer.byteLength(path, 'utf8');
    const size = 4 + 1 + 4 + 4 + pathBytes;
    this.reserve(size);
    const b = this.buf;
    let p = this.pos;
    b.writeUInt32BE(size - 4, p);
    b[p + 4] = type;
    b.writeUInt32BE(id >>> 0, p + 5);
    b.writeUInt32BE(pathBytes, p + 9);
    p += 13;
    b.write(path, p, pathBytes, 'utf8');
    this.pos = p + pathBytes;
  }

  /** The requests appended so far, as a buffer of their own; the encoder starts empty again. */
  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.pos));
    this.pos = 0;
    return out;
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }
}

/**
 * Reads packets out of the byte stream, which may split them anywhere, and hands each on as
 * (buffer, start, end): `start` at the type byte, `end` past the last byte. No copy and no
 * object per packet: a purge reads one reply per file.
 */
export class ReplyDecoder {
  private rest: Buffer | undefined;

  /** Largest packet accepted; anything longer means the stream is not SFTP. */
  static readonly MAX_PACKET = 256 * 1024;

  push(chunk: Buffer, onPacket: (buf: Buffer, start: number, end: number) => void): void {
    const buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    this.rest = undefined;
    let p = 0;
    while (buf.length - p >= 4) {
      const len = buf.readUInt32BE(p);
      if (len < 5 || len > ReplyDecoder.MAX_PACKET) throw new Error(`malformed SFTP packet (length ${len})`);
      if (buf.length - p - 4 < len) break;
      onPacket(buf, p + 4, p + 4 + len);
      p += 4 + len;
    }
    // Copied: the chunk's memory belongs to the stream.
    if (p < buf.length) this.rest = Buffer.from(buf.subarray(p));
  }
}

/** The packet's type byte. */
export const packetType = (buf: Buffer, start: number): number => buf[start]!;

/** The request id of a reply (every reply but VERSION starts with one). */
export const packetId = (buf: Buffer, start: number): number => buf.readUInt32BE(start + 1);

/** A cursor over one packet's payload that refuses to read past its end. */
class PayloadReader {
  constructor(
    private readonly buf: Buffer,
    private p: number,
    private readonly end: number,
  ) {}

  get more(): boolean {
    return this.p < this.end;
  }

  u32(): number {
    if (this.p + 4 > this.end) throw new Error('malformed SFTP packet (truncated)');
    const v = this.buf.readUInt32BE(this.p);
    this.p += 4;
    return v;
  }

  skip(n: number): void {
    if (this.p + n > this.end) throw new Error('malformed SFTP packet (truncated)');
    this.p += n;
  }

  str(): string {
    const n = this.u32();
    if (this.p + n > this.end) throw new Error('malformed SFTP packet (truncated)');
    const s = this.buf.toString('utf8', this.p, this.p + n);
    this.p += n;
    return s;
  }
}

/** VERSION: the server's protocol version. */
export const versionOf = (buf: Buffer, start: number, end: number): number => new PayloadReader(buf, start + 1, end).u32();

/** STATUS: the code, and the server's message (older servers may leave it out). */
export function statusOf(buf: Buffer, start: number, end: number): { code: number; message: string } {
  const r = new PayloadReader(buf, start + 5, end);
  const code = r.u32();
  return { code, message: r.more ? r.str() : '' };
}

/** STATUS: only the code, for the common case where it is OK. */
export const statusCodeOf = (buf: Buffer, start: number, end: number): number => new PayloadReader(buf, start + 5, end).u32();

/** NAME: the first (for REALPATH, the only) file name. */
export function firstNameOf(buf: Buffer, start: number, end: number): string {
  const r = new PayloadReader(buf, start + 5, end);
  const count = r.u32();
  if (count < 1) throw new Error('malformed SFTP packet (NAME without names)');
  return r.str();
}

/** What an ATTRS reply says of a file, as far as the server sent it (each field has a flag). */
export interface FileAttrs {
  size?: number;
  /** st_mode: the file type bits and the permissions. */
  permissions?: number;
  /** Modification time, whole seconds since 1970. */
  mtime?: number;
}

const ATTR_SIZE = 0x1;
const ATTR_UIDGID = 0x2;
const ATTR_PERMISSIONS = 0x4;
const ATTR_ACMODTIME = 0x8;

/** ATTRS (the reply to LSTAT): size (uint64), uid/gid, permissions, atime/mtime, by their flags. */
export function attrsOf(buf: Buffer, start: number, end: number): FileAttrs {
  const r = new PayloadReader(buf, start + 5, end);
  const flags = r.u32();
  const out: FileAttrs = {};
  if (flags & ATTR_SIZE) {
    const hi = r.u32();
    out.size = hi * 2 ** 32 + r.u32();
  }
  if (flags & ATTR_UIDGID) r.skip(8);
  if (flags & ATTR_PERMISSIONS) out.permissions = r.u32();
  if (flags & ATTR_ACMODTIME) {
    r.skip(4);
    out.mtime = r.u32();
  }
  return out;
}
