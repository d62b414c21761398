import path from 'node:path';
import type { ConfigProblem } from './configError.js';
import { parseByteSize } from './byteSize.js';
import { parseIsoDuration } from './duration.js';
import type { RawAlarms, RawNodeAlarms, RawSink } from './alarmSchema.js';
import type { SecretSource } from './secrets.js';
import type { YamlFile } from './yamlFile.js';

export interface FreeSpaceThresholds {
  lowerPercent: number;
  upperPercent: number;
  lowerFreeBytes?: number;
  upperFreeBytes?: number;
  purgeWhenRaised: boolean;
}

export interface DatabaseThresholds {
  capacityBytes?: number;
  raisePercent: number;
  clearPercent: number;
}

export interface StalledThresholds {
  maxTimeWithoutSuccessMs: number;
  maxBacklogAgeMs: number;
}

/** The alarm thresholds in force for one node: the shared ones with the node's overrides on top. */
export interface NodeAlarmThresholds {
  freeSpace: FreeSpaceThresholds;
  database: DatabaseThresholds;
  stalled: StalledThresholds;
}

export type ResolvedSink =
  | { type: 'alertmanager'; name: string; url: string; headers: Record<string, string>; timeoutMs: number }
  | { type: 'webhook'; name: string; url: string; headers: Record<string, string>; timeoutMs: number; hmac?: SecretSource; purgeFinished: boolean }
  | { type: 'syslog'; name: string; host: string; port: number; protocol: 'udp' | 'tcp'; facility: string; appName: string; timeoutMs: number; purgeFinished: boolean }
  | { type: 'log'; name: string; purgeFinished: boolean };

export interface ResolvedAlarms {
  checkIntervalMs: number;
  sinks: ResolvedSink[];
  delivery: { maxQueued: number; retryInitialMs: number; retryMaxMs: number };
  /** The shared thresholds (nodes may override them: see ResolvedNode.alarms). */
  defaults: NodeAlarmThresholds;
}

/** Cisco's defaults for the free-space alarm; the others are ours. */
export const ALARM_DEFAULTS = {
  freeSpace: { lowerPercent: 10, upperPercent: 15, purgeWhenRaised: true },
  database: { raisePercent: 90, clearPercent: 85 },
  stalled: { maxTimeWithoutSuccess: 'PT6H', maxBacklogAge: 'PT6H' },
} as const;

interface Ctx {
  yaml: YamlFile;
  problems: ConfigProblem[];
  problem(p: Array<string | number>, value: unknown, expected: string, fix?: string): ConfigProblem;
}

const ms = (iso: string): number => parseIsoDuration(iso)!.as('milliseconds');

export function resolveAlarms(raw: RawAlarms, ctx: Ctx): ResolvedAlarms {
  const defaults = mergeThresholds(undefined, raw, ['alarms'], ctx);
  const sinks: ResolvedSink[] = [];
  const names = new Map<string, number>();
  raw.sinks.forEach((s, i) => {
    const sink = resolveSink(s, ['alarms', 'sinks', i], ctx);
    const before = names.get(sink.name);
    if (before !== undefined) {
      report(ctx, 
        ctx.problem(['alarms', 'sinks', i, 'name'], sink.name, 'a sink name used once', `alarms.sinks[${before}] has the same name; give each sink its own "name:" (its queue on disk is kept under that name)`),
      );
    }
    names.set(sink.name, i);
    sinks.push(sink);
  });
  const retryInitialMs = ms(raw.delivery.retryInitial);
  const retryMaxMs = ms(raw.delivery.retryMax);
  if (retryMaxMs < retryInitialMs) {
    report(ctx, ctx.problem(['alarms', 'delivery', 'retryMax'], raw.delivery.retryMax, `a duration at least alarms.delivery.retryInitial (${raw.delivery.retryInitial})`));
  }
  return { checkIntervalMs: ms(raw.checkInterval), sinks, delivery: { maxQueued: raw.delivery.maxQueued, retryInitialMs, retryMaxMs }, defaults };
}

/** A node's thresholds: its own values over the shared ones, checked together (lower <= upper). */
export function resolveNodeAlarms(shared: RawAlarms, node: RawNodeAlarms | undefined, nodeIndex: number, ctx: Ctx): NodeAlarmThresholds {
  return mergeThresholds(node, shared, ['nodes', nodeIndex, 'alarms'], ctx);
}

function mergeThresholds(node: RawNodeAlarms | undefined, shared: RawAlarms, at: Array<string | number>, ctx: Ctx): NodeAlarmThresholds {
  const fs = { ...ALARM_DEFAULTS.freeSpace, ...defined(shared.freeSpace), ...defined(node?.freeSpace) };
  const db = { ...ALARM_DEFAULTS.database, ...defined(shared.database), ...defined(node?.database) };
  const st = { ...ALARM_DEFAULTS.stalled, ...defined(shared.stalled), ...defined(node?.stalled) };
  // Report at the key the admin wrote: the node's when it set it, else the shared one.
  const where = (section: 'freeSpace' | 'database', key: string): Array<string | number> =>
    node?.[section] && (node[section] as Record<string, unknown>)[key] !== undefined ? [...at, section, key] : ['alarms', section, key];

  if (fs.lowerPercent > fs.upperPercent) {
    report(ctx, 
      ctx.problem(where('freeSpace', 'lowerPercent'), fs.lowerPercent, `a lower threshold at most the upper one (upperPercent is ${fs.upperPercent})`, 'the alarm is raised at or below lowerPercent and cleared at or above upperPercent, e.g. 10 and 15 (Cisco\'s defaults); Cisco\'s own service refuses to start with lower > upper too'),
    );
  }
  const lowerFreeBytes = fs.lowerFreeBytes === undefined ? undefined : parseByteSize(fs.lowerFreeBytes);
  let upperFreeBytes = fs.upperFreeBytes === undefined ? undefined : parseByteSize(fs.upperFreeBytes);
  if (upperFreeBytes !== undefined && lowerFreeBytes === undefined) {
    report(ctx, ctx.problem(where('freeSpace', 'upperFreeBytes'), fs.upperFreeBytes, 'upperFreeBytes only together with lowerFreeBytes', 'set lowerFreeBytes (raise at or below) too, or remove upperFreeBytes'));
  }
  if (lowerFreeBytes !== undefined) {
    upperFreeBytes ??= Math.round(lowerFreeBytes * 1.5);
    if (lowerFreeBytes > upperFreeBytes) {
      report(ctx, ctx.problem(where('freeSpace', 'lowerFreeBytes'), fs.lowerFreeBytes, `a size at most upperFreeBytes (${fs.upperFreeBytes})`, 'raise at or below lowerFreeBytes, clear at or above upperFreeBytes'));
    }
  }
  if (db.clearPercent > db.raisePercent) {
    report(ctx, 
      ctx.problem(where('database', 'clearPercent'), db.clearPercent, `a percentage at most raisePercent (${db.raisePercent})`, 'the alarm is raised at or above raisePercent and cleared at or below clearPercent, e.g. 90 and 85'),
    );
  }
  return {
    freeSpace: { lowerPercent: fs.lowerPercent, upperPercent: fs.upperPercent, lowerFreeBytes, upperFreeBytes, purgeWhenRaised: fs.purgeWhenRaised },
    database: { capacityBytes: db.capacity === undefined ? undefined : parseByteSize(db.capacity), raisePercent: db.raisePercent, clearPercent: db.clearPercent },
    stalled: { maxTimeWithoutSuccessMs: ms(st.maxTimeWithoutSuccess), maxBacklogAgeMs: ms(st.maxBacklogAge) },
  };
}

function resolveSink(s: RawSink, at: Array<string | number>, ctx: Ctx): ResolvedSink {
  const name = s.name ?? s.type;
  switch (s.type) {
    case 'alertmanager':
      return { type: s.type, name, url: s.url.replace(/\/+$/, ''), headers: s.headers ?? {}, timeoutMs: ms(s.timeout) };
    case 'webhook': {
      let hmac: SecretSource | undefined;
      if (s.hmac) {
        const given = [
          s.hmac.secretFile !== undefined && ({ kind: 'file', path: path.resolve(path.dirname(ctx.yaml.file), s.hmac.secretFile) } as const),
          s.hmac.secretEnv !== undefined && ({ kind: 'env', name: s.hmac.secretEnv } as const),
          s.hmac.secretCredential !== undefined && ({ kind: 'credential', name: s.hmac.secretCredential } as const),
        ].filter((g): g is Exclude<typeof g, false> => Boolean(g));
        if (given.length !== 1) {
          report(ctx, ctx.problem([...at, 'hmac'], `${given.length} sources`, 'exactly one of secretFile, secretEnv, secretCredential', 'say where the HMAC key is read from (never write the key itself in the config)'));
        }
        hmac = given[0];
      }
      return { type: s.type, name, url: s.url, headers: s.headers ?? {}, timeoutMs: ms(s.timeout), hmac, purgeFinished: s.purgeFinished };
    }
    case 'syslog':
      return { type: s.type, name, host: s.host, port: s.port, protocol: s.protocol, facility: s.facility, appName: s.appName, timeoutMs: ms(s.timeout), purgeFinished: s.purgeFinished };
    case 'log':
      return { type: s.type, name, purgeFinished: s.purgeFinished };
  }
}

function defined<T extends object>(o: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Shared thresholds are merged once for the defaults and once per node: report each problem once. */
function report(ctx: Ctx, p: ConfigProblem): void {
  if (!ctx.problems.some((q) => q.file === p.file && q.key === p.key && q.expected === p.expected)) ctx.problems.push(p);
}
