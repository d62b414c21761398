import type { ChatType } from '../core/chatType.js';
import { startOfUtcHour } from '../core/clock.js';

/** One simulated upload: the file, its Post row and its downloads. */
export interface DemoUpload {
  chatType: ChatType;
  /** Path relative to the node directory. */
  relPath: string;
  uploadedAt: Date;
  size: number;
  jid: string;
  toJid: string;
  downloads: Date[];
}

const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'].map((u) => `${u}@example.com`);
const ROOMS = ['ops-room@conference.example.com', 'design@persistent.example.com'];
const EXTS = ['png', 'pdf', 'docx', 'txt', 'jpg'];
const PER_HOUR: Record<ChatType, number> = { im: 12, groupchat: 5, persistent: 3 };
/** Cisco opens a new HH.n folder after 1,000 files in an hour. */
export const FILES_PER_FOLDER = 1000;

/** A small deterministic PRNG so every demo tells the same story. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

function folderFor(t: Date, indexInHour: number): { date: string; hour: string } {
  const date = `${t.getUTCFullYear()}${pad(t.getUTCMonth() + 1)}${pad(t.getUTCDate())}`;
  const roll = Math.floor(indexInHour / FILES_PER_FOLDER);
  return { date, hour: roll === 0 ? pad(t.getUTCHours()) : `${pad(t.getUTCHours())}.${roll}` };
}

/**
 * Two days of traffic up to `now`, in Cisco's layout: every chat type every hour, one busy
 * hour whose files roll over into `HH.1`, downloads after most uploads, and files of the
 * current UTC hour.
 */
export function makeDemoTraffic(now: Date, hours = 50, busyHourAgo = 30): DemoUpload[] {
  const rnd = prng(20140811);
  const uploads: DemoUpload[] = [];
  const currentHour = startOfUtcHour(now).getTime();
  for (let h = hours; h >= 0; h--) {
    const hourStart = currentHour - h * 3_600_000;
    // In the current hour only the part that has already happened.
    const span = h === 0 ? Math.max(1, now.getTime() - hourStart) : 3_600_000;
    for (const chatType of Object.keys(PER_HOUR) as ChatType[]) {
      const count = chatType === 'im' && h === busyHourAgo ? FILES_PER_FOLDER + 40 : PER_HOUR[chatType];
      for (let i = 0; i < count; i++) {
        const uploadedAt = new Date(hourStart + Math.floor((span * i) / count + rnd() * (span / count)));
        const { date, hour } = folderFor(uploadedAt, i);
        const ext = EXTS[Math.floor(rnd() * EXTS.length)]!;
        const name = `${Math.floor(rnd() * 2 ** 48).toString(16)}${i}.${ext}`;
        const jid = USERS[Math.floor(rnd() * USERS.length)]!;
        const toJid = chatType === 'im' ? USERS[Math.floor(rnd() * USERS.length)]! : ROOMS[chatType === 'groupchat' ? 0 : 1]!;
        const downloads: Date[] = [];
        const n = Math.floor(rnd() * 3);
        for (let d = 0; d < n; d++) {
          const at = uploadedAt.getTime() + Math.floor(rnd() * 6 * 3_600_000);
          if (at < now.getTime()) downloads.push(new Date(at));
        }
        uploads.push({ chatType, relPath: `files/${chatType}/${date}/${hour}/${name}`, uploadedAt, size: 200 + Math.floor(rnd() * 20_000), jid, toJid, downloads });
      }
    }
  }
  return uploads;
}
