import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { loadConfig } from '../config/loadConfig.js';
import type { ResolvedConfig } from '../config/resolvedConfig.js';
import { parseApproval, type Approval } from '../core/approval.js';
import { CHAT_TYPES, isChatType, type ChatType } from '../core/chatType.js';
import type { Refusal } from '../core/limits.js';
import { PlanError, shortChecksum } from '../core/planFile.js';
import { coerceError } from '../errors.js';
import { makeLogger } from '../logger.js';
import { applyPlan, assertPlanApplies, PlanRefusedError } from '../purge/planApply.js';
import { planResult, type PlanResult } from '../purge/planResult.js';
import { makePlan } from '../purge/planSave.js';
import { readPlanFile, resultFileOf, writeFileAtomically, writePlanFile } from '../purge/planStore.js';
import { openRunHistory, type RunHistory } from '../purge/runHistory.js';
import { nextDaemonPurge } from '../daemon/nextRun.js';
import { EXIT, type ExitCode } from '../shared/exitCodes.js';
import { humanBytes, table, thousands } from '../shared/format.js';
import { UsageError, type Io } from './io.js';
import { exitCodeFor, parseAsOf, type PurgeArgs } from './purgeArgs.js';
import { fileRecord, renderReport, summaryRecord } from './purgeReport.js';

/** `purge --dry-run --save-plan FILE` and `purge --plan FILE`. */
export async function planCommand(args: PurgeArgs, io: Io): Promise<ExitCode> {
  try {
    return args.plan ? await applyCommand(args, args.plan, io) : await saveCommand(args, args.savePlan!, io);
  } catch (err) {
    if (err instanceof PlanError) {
      io.err(`mft-retention: ${err.message}`);
      return EXIT.config;
    }
    if (err instanceof PlanRefusedError) {
      io.err(`mft-retention: plan refused, nothing was changed: ${err.message}`);
      return EXIT.refused;
    }
    throw err;
  }
}

function parseApprovals(tokens: string[] | undefined, config: ResolvedConfig, node: string): Approval[] {
  return (tokens ?? []).map((token) => {
    const a = parseApproval(token);
    if (typeof a === 'string') throw new UsageError(`--approve ${a}`);
    if (a.node !== node) throw new UsageError(`--approve "${token}" is for node "${a.node}"; this plan is for node "${node}" (${config.file})`);
    return a;
  });
}

async function history(config: ResolvedConfig, io: Io): Promise<RunHistory | undefined> {
  return openRunHistory(config.daemon.stateDirectory).catch((err) => {
    io.err(`mft-retention: warning: ${coerceError(err).message}`);
    return undefined;
  });
}

async function saveCommand(args: PurgeArgs, file: string, io: Io): Promise<ExitCode> {
  if (!args.dryRun) throw new UsageError('--save-plan writes what a dry-run finds: use it with --dry-run (then apply the plan with --plan FILE)');
  if (args.alarms) throw new UsageError('--alarms is for a real purge; a dry-run changes nothing, alarm state included');
  if (args.offline) throw new UsageError('--offline cannot be combined with --save-plan: a plan records each file as the file server has it (read-only, lstat); drop --offline');
  for (const [option, target] of [['--save-plan', file], ['--html', args.html]] as const) {
    if (target && !existsSync(dirname(resolve(target)))) throw new UsageError(`${option} ${target}: the folder ${dirname(resolve(target))} does not exist`);
  }
  const asOf = args.asOf ? parseAsOf(args.asOf, io) : undefined;
  const chatTypes = args.chatTypes?.map((c) => {
    if (!isChatType(c)) throw new UsageError(`--chat-type "${c}" is not a chat type; expected one of ${CHAT_TYPES.join(', ')}`);
    return c as ChatType;
  });
  const config = await loadConfig(args.config);
  const names = args.nodes ?? config.nodes.map((n) => n.name);
  if (names.length !== 1) throw new UsageError(`a plan is for one node; ${config.file} has ${config.nodes.length} (${config.nodes.map((n) => n.name).join(', ')}): add --node NAME`);
  const node = config.nodes.find((n) => n.name === names[0]);
  if (!node) throw new UsageError(`--node ${names[0]} is not in ${config.file}; configured nodes: ${config.nodes.map((n) => n.name).join(', ')}`);
  const log = makeLogger({ level: (args.logLevel ?? 'warn') as never, fd: 2 });
  const started = asOf ?? new Date();
  const saved = await makePlan(config, node, log, {
    hostNow: () => asOf ?? new Date(),
    simulated: Boolean(asOf),
    chatTypes,
    env: io.env,
    history: await history(config, io),
    onFile: args.json ? (n, f, outcome) => io.out(JSON.stringify(fileRecord(n, f, outcome))) : undefined,
  });
  const { result, plan } = saved;
  // The run's own refusals would print tokens for a run; a plan is approved by tokens bound to it.
  const runRefused = result.refused;
  result.refused = saved.refusals?.length ? saved.refusals : undefined;
  if (plan) await writePlanFile(file, plan);
  if (args.json) {
    io.out(JSON.stringify(summaryRecord([result], true, started)));
    if (plan) io.out(JSON.stringify({ type: 'plan', file, checksum: plan.checksum, node: plan.node, createdAt: plan.createdAt, asOf: plan.asOf, files: plan.files.length, leftOut: saved.leftOut, refused: saved.refusals ?? [] }));
  } else {
    const { schedule, timezone, windows } = config.daemon;
    const report = renderReport([{ ...result, refused: undefined }], true, started, { schedule, timezone, windows: windows.map((w) => w.text), at: nextDaemonPurge(config.daemon, started) }, config.file);
    io.out(report);
    if (plan) {
      const bytes = plan.files.reduce((a, f) => a + f.size, 0);
      io.out('');
      io.out(`Plan written to ${file}: ${thousands(plan.files.length)} files, ${humanBytes(bytes)}, ${thousands(plan.files.reduce((a, f) => a + f.rows.length, 0))} AFT_LOG rows; checksum ${plan.checksum}.`);
      if (saved.leftOut.length) io.out(`${thousands(saved.leftOut.length)} files changed while the plan was made and were left out of it.`);
      if (runRefused?.length) io.out('A purge deciding for itself would be refused by the limits above; the plan is checked against them when applied.');
      for (const line of renderPlanRefusals(saved.refusals ?? [], config.file, file, false)) io.out(line);
      io.out(`Review it, then apply it (within purge.planMaxAge, ${config.purge.planMaxAgeText}): mft-retention purge --config ${config.file} --plan ${file}`);
    } else io.out('\nNo plan was written: the dry-run failed.');
  }
  if (args.html) {
    const { renderDryRunHtml } = await import('./dryRunHtml.js');
    await writeFile(args.html, renderDryRunHtml([{ ...result, refused: runRefused }], started, config.file));
    if (!args.json) io.out(`\nThe dry-run as a page: ${args.html}`);
  }
  log.flush?.();
  if (!plan) return exitCodeFor([result]);
  return saved.refusals?.length ? EXIT.refused : result.status === 'ok' || result.status === 'refused' ? EXIT.ok : exitCodeFor([result]);
}

function renderPlanRefusals(refusals: Refusal[], configFile: string, planFile: string, applying: boolean): string[] {
  const out: string[] = [];
  const tokens = new Set<string>();
  for (const x of refusals) {
    const scope = x.chatType === 'all' ? 'every chat type' : x.chatType;
    out.push(`${applying ? 'REFUSED' : 'Applying this plan WOULD BE REFUSED for'} ${scope} (limit ${x.limit}): ${x.message}.`);
    out.push(`  To go ahead: ${x.fix}.`);
    if (x.approval && !tokens.has(x.approval.token)) {
      tokens.add(x.approval.token);
      out.push(`  Approve this plan once (valid until ${x.approval.validUntil}): mft-retention purge --config ${configFile} --plan ${planFile} --approve ${x.approval.token}`);
    }
  }
  return out;
}

async function applyCommand(args: PurgeArgs, file: string, io: Io): Promise<ExitCode> {
  if (args.html || args.offline) throw new UsageError(`--${args.html ? 'html' : 'offline'} is for a dry-run; --plan applies a plan`);
  if (args.dryRun) throw new UsageError('--plan applies a plan; to see what a plan holds, read the file (or make a new one with --dry-run --save-plan)');
  if (args.savePlan) throw new UsageError('--plan and --save-plan cannot be combined');
  if (args.asOf) throw new UsageError('--as-of is only for a dry-run: a plan is applied by the real clock');
  if (args.chatTypes?.length) throw new UsageError('--chat-type cannot be combined with --plan: the plan says which files go');
  const plan = await readPlanFile(file);
  const config = await loadConfig(args.config);
  if (args.nodes && !args.nodes.includes(plan.node)) throw new UsageError(`the plan ${file} is for node "${plan.node}", which --node ${args.nodes.join(', ')} leaves out`);
  const node = assertPlanApplies(config, plan, file, new Date());
  const approvals = parseApprovals(args.approve, config, node.name);
  const log = makeLogger({ level: (args.logLevel ?? config.log.level) as never, fd: 2 });
  const runs = await history(config, io);
  const app = await applyPlan(config, node, plan, log, {
    hostNow: () => new Date(),
    env: io.env,
    history: runs,
    approvals,
    onFile: args.json ? (n, f, outcome) => io.out(JSON.stringify(fileRecord(n, f, outcome))) : undefined,
  });
  await runs?.save().catch((err) => log.warn({ err: coerceError(err) }, 'cannot save the purge history; the limit on unusually large runs will not know this run'));
  const record = planResult(plan, file, app);
  const resultFile = resultFileOf(file);
  let written = true;
  await writeFileAtomically(resultFile, `${JSON.stringify(record, null, 2)}\n`).catch((err) => {
    written = false;
    io.err(`mft-retention: cannot write ${resultFile} (${coerceError(err).message}); the result is on standard output`);
  });
  if (args.json) io.out(JSON.stringify({ type: 'plan-result', file: written ? resultFile : null, ...record }));
  else io.out(renderApplication(record, app.result.refused ?? [], config.file, file, written ? resultFile : undefined));
  if (args.alarms) {
    const { raiseAlarmsAfterPurge } = await import('./purgeAlarms.js');
    await raiseAlarmsAfterPurge(config, [app.result], log, io.env);
  }
  log.flush?.();
  return exitCodeFor([app.result]);
}

const kv = (o: Record<string, number>): string =>
  Object.entries(o)
    .map(([k, v]) => `${k}: ${thousands(v)}`)
    .join(', ') || '-';

/** The human report of an applied plan: per chat type, planned, removed, skipped (why), failed (why). */
export function renderApplication(r: PlanResult, refusals: Refusal[], configFile: string, planFile: string, resultFile: string | undefined): string {
  const out = [`Plan ${planFile} (${shortChecksum(r.plan.checksum)}, made ${r.plan.createdAt}) applied to node ${r.plan.node}: ${r.status}${r.error ? ` - ${r.error}` : ''}`];
  const rows = r.chatTypes.map((c) => [c.chatType, thousands(c.planned), thousands(c.removed), thousands(c.alreadyMissing), humanBytes(c.bytesRemoved), thousands(c.rowsDeleted), kv(c.skipped), kv(c.failed), thousands(c.notReached)]);
  out.push(table(['chat type', 'planned', 'removed', 'already missing', 'bytes', 'rows', 'skipped (why)', 'failed (why)', 'not reached'], rows).replace(/^/gm, '  '));
  for (const f of r.notRemoved.slice(0, 20)) out.push(`  ${f.outcome} ${f.reason ?? ''}: ${f.path}${f.detail ? ` (${f.detail})` : ''}`);
  if (r.notRemoved.length > 20) out.push(`  ... and ${thousands(r.notRemoved.length - 20)} more (see the result file)`);
  out.push(...renderPlanRefusals(refusals, configFile, planFile, true));
  if (resultFile) out.push(`Result written to ${resultFile}.`);
  return out.join('\n');
}
