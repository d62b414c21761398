import type { FileDecision } from '../core/planBatch.js';
import type { NodeResult } from '../purge/purgeNode.js';
import { humanBytes, table, thousands } from '../shared/format.js';

/** One JSON Lines object per file considered (`--json`). */
export function fileRecord(node: string, f: FileDecision, outcome?: string): Record<string, unknown> {
  return {
    type: 'file',
    node,
    chatType: f.chatType,
    filePath: f.filePath,
    fileSize: f.fileSize,
    ...(f.failedTransfer ? { failedTransfer: true } : {}),
    decision: f.decision,
    reason: f.reason,
    ...(f.detail ? { detail: f.detail } : {}),
    ...(outcome ? { outcome } : {}),
    aftIndex: f.aftIndex,
    uploadedAt: Number.isNaN(f.uploadedAt.getTime()) ? null : f.uploadedAt.toISOString(),
    hour: f.hourStart?.toISOString() ?? null,
    rows: f.decision === 'delete' ? f.rowIndexes.length : 0,
  };
}

/**
 * What a run purged (or a dry-run would). A chat type a limit refuses is not in the totals: a
 * dry-run shows its files in its own row, but the purge would remove none of them.
 */
export function totals(results: NodeResult[]): { files: number; bytes: number; rows: number; failed: number; kept: number; refusedFiles: number; refusedBytes: number } {
  let files = 0;
  let bytes = 0;
  let rows = 0;
  let failed = 0;
  let kept = 0;
  let refusedFiles = 0;
  let refusedBytes = 0;
  for (const r of results) {
    for (const s of r.chatTypes) {
      if (s.refused) {
        refusedFiles += s.files;
        refusedBytes += s.bytes;
        continue;
      }
      files += s.files;
      bytes += s.bytes;
      rows += s.rows;
      failed += Object.values(s.failed).reduce((a, b) => a + b, 0);
      kept += Object.values(s.kept).reduce((a, b) => a + b, 0);
    }
  }
  return { files, bytes, rows, failed, kept, refusedFiles, refusedBytes };
}

export function summaryRecord(results: NodeResult[], dryRun: boolean, asOf: Date): Record<string, unknown> {
  return {
    type: 'summary',
    dryRun,
    asOf: asOf.toISOString(),
    ...totals(results),
    nodes: results.map((r) => ({
      node: r.node,
      status: r.status,
      ...(r.error ? { error: r.error.message } : {}),
      clockSkewMs: r.clockSkewMs,
      ...(r.refused ? { refused: r.refused } : {}),
      ...(r.orphanDownloads ? { orphanDownloads: r.orphanDownloads } : {}),
      ...(r.ended ? { ended: r.ended } : {}),
      chatTypes: r.chatTypes,
    })),
  };
}

const kv = (o: Record<string, number>): string =>
  Object.entries(o)
    .map(([k, v]) => `${k}: ${thousands(v)}`)
    .join(', ') || '-';

/** The human-readable report of a purge or dry-run. */
export function renderReport(results: NodeResult[], dryRun: boolean, asOf: Date, nextRun?: { at?: Date; schedule: string; timezone: string; windows?: string[] }, configFile = 'FILE'): string {
  const out: string[] = [];
  out.push(dryRun ? `DRY-RUN as of ${asOf.toISOString()}: nothing was changed. This is what a purge would do.` : `Purge finished at ${new Date().toISOString()}.`);
  for (const r of results) {
    out.push('', `Node ${r.node}: ${r.status}${r.error ? ` - ${r.error.message}` : ''}`);
    if (r.clockSkewMs && Math.abs(r.clockSkewMs) >= 1000) out.push(`  database clock is ${(r.clockSkewMs / 1000).toFixed(1)} s ${r.clockSkewMs > 0 ? 'ahead of' : 'behind'} this host`);
    if (r.chatTypes.length === 0) continue;
    const header = ['chat type', 'retention', dryRun ? 'files to go' : 'files purged', 'bytes', 'rows', 'oldest hour', 'newest hour', 'kept (why)', ...(dryRun ? [] : ['failed (why)'])];
    const rows = r.chatTypes.map((s) => [
      s.chatType,
      s.retention,
      thousands(s.files),
      humanBytes(s.bytes),
      thousands(s.rows),
      s.oldestHour ?? '-',
      s.newestHour ?? '-',
      kv(s.kept),
      ...(dryRun ? [] : [kv(s.failed)]),
    ]);
    out.push(table(header, rows).replace(/^/gm, '  '));
    const failedTransfers = r.chatTypes.reduce((n, s) => n + s.failedTransfers, 0);
    if (failedTransfers) out.push(`  ${thousands(failedTransfers)} of these files are failed uploads (bytes_transferred differs from file_size).`);
    const rowsPending = r.chatTypes.reduce((n, s) => n + s.rowsPending, 0);
    if (rowsPending) out.push(`  ${thousands(rowsPending)} of these files were removed but their AFT_LOG rows could not be deleted: the next run deletes them.`);
    if (r.orphanDownloads?.rows) out.push(`  ${thousands(r.orphanDownloads.rows)} download rows of ${thousands(r.orphanDownloads.files)} files purged earlier were deleted (logged after their file's rows).`);
    out.push(...renderRefusals(r, dryRun, configFile));
  }
  if (dryRun) out.push(...renderHistogram(results));
  const t = totals(results);
  if (dryRun && nextRun) {
    const inside = nextRun.windows?.length ? `, inside daemon.windows ${nextRun.windows.map((w) => `"${w}"`).join(', ')}` : '';
    out.push(
      '',
      nextRun.at
        ? `Next scheduled purge (daemon.schedule "${nextRun.schedule}", ${nextRun.timezone}${inside}): ${nextRun.at.toISOString()}`
        : `daemon.schedule "${nextRun.schedule}" does not fire${inside ? ' inside daemon.windows' : ''} in the coming year.`,
    );
  }
  out.push('', `${dryRun ? 'Would purge' : 'Purged'}: ${thousands(t.files)} files, ${humanBytes(t.bytes)}, ${thousands(t.rows)} AFT_LOG rows.${t.failed ? ` ${thousands(t.failed)} files failed and keep their rows.` : ''}`);
  if (dryRun && t.refusedFiles) out.push(`Would be refused (not in the total above until approved): ${thousands(t.refusedFiles)} files, ${humanBytes(t.refusedBytes)}.`);
  return out.join('\n');
}

/** Per-day histogram (by hour folder, UTC) of what would go, all nodes and chat types together. */
export function renderHistogram(results: NodeResult[], width = 40): string[] {
  const days = new Map<string, { files: number; bytes: number }>();
  for (const r of results) {
    for (const s of r.chatTypes) {
      for (const [day, v] of Object.entries(s.byDay)) {
        const d = days.get(day) ?? { files: 0, bytes: 0 };
        d.files += v.files;
        d.bytes += v.bytes;
        days.set(day, d);
      }
    }
  }
  if (days.size === 0) return [];
  const max = Math.max(...[...days.values()].map((d) => d.files));
  const lines = ['', 'What would go, per day (UTC date of the hour folder):'];
  for (const [day, d] of [...days.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const bar = '#'.repeat(Math.max(1, Math.round((d.files / max) * width)));
    lines.push(`  ${day}  ${bar.padEnd(width)}  ${thousands(d.files).padStart(9)} files  ${humanBytes(d.bytes).padStart(10)}`);
  }
  return lines;
}

/** What refused the node (or would), with the numbers and how to go ahead. */
export function renderRefusals(r: NodeResult, dryRun: boolean, configFile: string): string[] {
  const out: string[] = [];
  const tokens = new Set<string>();
  for (const x of r.refused ?? []) {
    const scope = x.chatType === 'all' ? 'every chat type' : x.chatType;
    out.push(`  ${dryRun ? 'WOULD BE REFUSED' : 'REFUSED'} ${scope} (limit ${x.limit}): ${x.message}.`);
    out.push(`    To go ahead: ${x.fix.replace('--config FILE', `--config ${configFile}`)}.`);
    if (x.approval && !tokens.has(x.approval.token)) {
      tokens.add(x.approval.token);
      out.push(`    Approve once (valid until ${x.approval.validUntil}): mft-retention purge --config ${configFile} --node ${r.node} --approve ${x.approval.token}`);
    }
  }
  return out;
}
