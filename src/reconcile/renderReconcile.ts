import { humanBytes, table, thousands } from '../shared/format.js';
import type { ReconcileResult } from './reconcileNode.js';

const LIST_MAX = 50;

/** JSON Lines: one record per orphan, missing file and skipped entry, then a summary. */
export function reconcileRecords(results: ReconcileResult[], removeOrphans: boolean): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const r of results) {
    for (const c of r.chatTypes) {
      for (const o of c.orphans) out.push({ type: 'orphan', node: r.node, chatType: c.chatType, path: o.path, size: o.size, getRows: o.getRows, action: o.action });
      for (const m of c.missing) out.push({ type: 'missing-file', node: r.node, chatType: c.chatType, aftIndex: m.aftIndex, path: m.path, uploadedAt: m.uploadedAt });
      for (const s of c.skipped) out.push({ type: 'skipped', node: r.node, chatType: c.chatType, path: s.path, entryType: s.type, why: s.why });
    }
  }
  out.push({
    type: 'summary',
    removeOrphans,
    nodes: results.map((r) => ({
      node: r.node,
      status: r.status,
      ...(r.error ? { error: r.error.message } : {}),
      asOf: r.asOf?.toISOString() ?? null,
      ...(r.orphanDownloads !== undefined ? { orphanDownloads: r.orphanDownloads } : {}),
      chatTypes: r.chatTypes.map((c) => ({ chatType: c.chatType, retention: c.retention, hourFolders: c.hourFolders, files: c.files, orphans: c.orphans.length, orphansRemoved: c.orphans.filter((o) => o.action === 'removed' || o.action === 'missing').length, missingFiles: c.missing.length, skipped: c.skipped.length })),
    })),
  });
  return out;
}

/** The human-readable reconciliation report. */
export function renderReconcile(results: ReconcileResult[], removeOrphans: boolean): string {
  const out: string[] = [removeOrphans ? 'RECONCILE with --remove-orphans: orphans in expired hours are removed (held ones kept).' : 'RECONCILE (read-only): nothing was changed.'];
  for (const r of results) {
    out.push('', `Node ${r.node}: ${r.status}${r.error ? ` - ${r.error.message}` : ''}${r.asOf ? ` (as of ${r.asOf.toISOString()})` : ''}`);
    if (r.orphanDownloads) {
      out.push(`  ${thousands(r.orphanDownloads)} Get rows name a path no upload row describes (downloads logged after their file was purged): the next purge that removes files deletes those whose file is gone.`);
    }
    if (r.chatTypes.length === 0) continue;
    out.push(
      table(
        ['chat type', 'retention', 'expired hour folders', 'files', 'orphans', 'Post rows, file missing', 'skipped'],
        r.chatTypes.map((c) => [c.chatType, c.retention, thousands(c.hourFolders), thousands(c.files), thousands(c.orphans.length), thousands(c.missing.length), thousands(c.skipped.length)]),
      ).replace(/^/gm, '  '),
    );
    const orphans = r.chatTypes.flatMap((c) => c.orphans);
    if (orphans.length) {
      out.push('', '  Files without a Post row (orphans: still downloadable, never purged):');
      for (const o of orphans.slice(0, LIST_MAX)) out.push(`    ${o.path}  ${humanBytes(o.size)}${o.getRows ? `  (${o.getRows} Get rows)` : ''}  ${o.action}`);
      if (orphans.length > LIST_MAX) out.push(`    ... and ${thousands(orphans.length - LIST_MAX)} more (--json lists them all)`);
    }
    const missing = r.chatTypes.flatMap((c) => c.missing);
    if (missing.length) {
      out.push('', '  Post rows whose file is missing (the next purge deletes their rows):');
      for (const m of missing.slice(0, LIST_MAX)) out.push(`    aft_index ${m.aftIndex}  ${m.uploadedAt ?? '-'}  ${m.path}`);
      if (missing.length > LIST_MAX) out.push(`    ... and ${thousands(missing.length - LIST_MAX)} more (--json lists them all)`);
    }
    const skipped = r.chatTypes.flatMap((c) => c.skipped);
    if (skipped.length) {
      out.push('', '  Skipped (never removed):');
      for (const s of skipped.slice(0, LIST_MAX)) out.push(`    ${s.type.padEnd(9)} ${s.path}  (${s.why})`);
      if (skipped.length > LIST_MAX) out.push(`    ... and ${thousands(skipped.length - LIST_MAX)} more (--json lists them all)`);
    }
  }
  const count = (f: (c: ReconcileResult['chatTypes'][number]) => number): number => results.reduce((a, r) => a + r.chatTypes.reduce((b, c) => b + f(c), 0), 0);
  const orphans = count((c) => c.orphans.length);
  const removed = count((c) => c.orphans.filter((o) => o.action === 'removed' || o.action === 'missing').length);
  out.push('', `Orphans: ${thousands(orphans)}${removeOrphans ? ` (${thousands(removed)} removed)` : orphans ? ' (remove them with --remove-orphans)' : ''}. Post rows whose file is missing: ${thousands(count((c) => c.missing.length))}.`);
  return out.join('\n');
}
