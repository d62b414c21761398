/**
 * A legal hold: files it matches are never purged while it is in force, whatever their age.
 * A hold matches a file when any one of its selectors does.
 */
export interface Hold {
  name: string;
  reason?: string;
  /** The hold ends at this instant; absent = until removed. */
  expires?: Date;
  /** Bare JIDs (lower case) that uploaded (`jid` of the Post row) or received (`to_jid`). */
  jids: string[];
  /** Bare JIDs (lower case) that uploaded. */
  uploaders: string[];
  /** Bare JIDs (lower case) of the recipient: a user, an ad hoc group chat or a persistent room. */
  recipients: string[];
  /** Path prefixes, each ending in `/`, or exact file paths. */
  paths: string[];
  /** AFT_LOG.aft_index values of `Post` rows. */
  aftIndexes: string[];
}

/** `Alice@Example.com/laptop` -> `alice@example.com`: holds name people, not their devices. */
export function bareJid(jid: string): string {
  const slash = jid.indexOf('/');
  return (slash >= 0 ? jid.slice(0, slash) : jid).trim().toLowerCase();
}

/** What a hold matches on: the fields of an upload row it reads. */
export interface HeldRow {
  aftIndex: string;
  filePath: string | null;
  jid: string;
  toJid: string;
}

/** The first hold in force at `now` that covers the row, if any. */
export function findHold(row: HeldRow, holds: readonly Hold[], now: Date): Hold | undefined {
  if (holds.length === 0) return undefined;
  const uploader = bareJid(row.jid ?? '');
  const recipient = bareJid(row.toJid ?? '');
  const path = row.filePath ?? '';
  return holds.find(
    (h) =>
      (!h.expires || h.expires.getTime() > now.getTime()) &&
      (h.jids.includes(uploader) ||
        h.jids.includes(recipient) ||
        h.uploaders.includes(uploader) ||
        h.recipients.includes(recipient) ||
        h.aftIndexes.includes(row.aftIndex) ||
        h.paths.some((p) => (p.endsWith('/') ? path.startsWith(p) : path === p))),
  );
}
