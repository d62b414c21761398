// CPU time of the servers the benchmark started, read from /proc: what PostgreSQL and sshd
// spent on a purge, beside what the purge itself spent (GNU time gives that one).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    const out = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    ticksPerSecond = Number.isFinite(out) && out > 0 ? out : 100;
  }
  return ticksPerSecond;
}

interface Stat {
  ppid: number;
  /** utime + stime + cutime + cstime, in clock ticks. */
  ticks: number;
}

/** /proc/<pid>/stat, or undefined when the process is gone. The name may hold spaces and parentheses. */
function readStat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Fields after the name, from field 3 (state): ppid is field 4, utime..cstime fields 14..17.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) };
}

/**
 * CPU seconds (user and system) used so far by a process and all its descendants: each live
 * one's own time, plus, through its parent's children's time, every one already waited for.
 * The difference of two readings is what the tree spent between them (a server's backends and
 * sessions end with the client, and their parents collect their time).
 */
export function treeCpuSeconds(rootPid: number): number {
  const stats = new Map<number, Stat>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s) stats.set(Number(name), s);
  }
  if (!stats.has(rootPid)) throw new Error(`process ${rootPid} is not running: cannot read its CPU time`);
  const children = new Map<number, number[]>();
  for (const [pid, s] of stats) {
    const list = children.get(s.ppid);
    if (list) list.push(pid);
    else children.set(s.ppid, [pid]);
  }
  let ticks = 0;
  const todo = [rootPid];
  while (todo.length) {
    const pid = todo.pop()!;
    ticks += stats.get(pid)?.ticks ?? 0;
    todo.push(...(children.get(pid) ?? []));
  }
  return ticks / clockTicks();
}

/**
 * Seconds of CPU time the hypervisor gave to other guests so far, summed over all cores (the
 * `steal` column of /proc/stat): on a shared virtual machine the cores were not all ours, and
 * a purge that competes with PostgreSQL and sshd for them runs slower by as much. Zero on bare
 * metal.
 */
export function hostStealSeconds(): number {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/);
  if (cpu[0] !== 'cpu') throw new Error('/proc/stat does not start with the cpu line');
  // cpu user nice system idle iowait irq softirq steal ...
  return Number(cpu[8] ?? 0) / clockTicks();
}
