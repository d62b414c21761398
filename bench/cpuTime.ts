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

/** utime + stime, the process's own CPU time in clock ticks; undefined when it is gone. */
function ownTicks(pid: number): number | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The name may hold spaces and parentheses. Fields after it start at field 3 (state); utime
  // and stime are fields 14 and 15.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

/** The children of every thread of a process (the kernel lists them per thread). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      for (const c of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ')) if (c) out.push(Number(c));
    }
  } catch {
    // Gone meanwhile: it has no children left to count.
  }
  return out;
}

/**
 * Every process now under `rootPid` (itself included), with its own CPU ticks. Only the tree is
 * read, not all of /proc: the sampling must cost little beside the purge it measures.
 */
function treeNow(rootPid: number): Map<number, number> {
  const tree = new Map<number, number>();
  const todo = [rootPid];
  while (todo.length) {
    const pid = todo.pop()!;
    const ticks = ownTicks(pid);
    if (ticks === undefined) {
      if (pid === rootPid) throw new Error(`process ${rootPid} is not running: cannot read its CPU time`);
      continue;
    }
    tree.set(pid, ticks);
    todo.push(...childrenOf(pid));
  }
  return tree;
}

/**
 * CPU seconds (user and system) that the processes under some roots spend while something
 * runs, sampled from /proc every `intervalMs`. Each process counts with the last time it was
 * seen: the time of a process that ends is not always passed to its parent (sshd's SFTP
 * process is reaped without it, so reading the parent's children's time missed most of the
 * SFTP server's work). A process that ends loses at most its last interval; one that starts
 * and ends between two samples is missed (none here: a purge's database backend and SSH
 * session live as long as it). The sampling itself costs a few milliseconds a sample.
 */
export class TreeCpuSampler {
  /** Each process's ticks when the sampling started (none for the ones that started later). */
  private readonly first = new Map<number, number>();
  /** Each process's ticks when last seen, and whose tree it is in. */
  private readonly last = new Map<number, number>();
  private readonly owner = new Map<number, string>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly rootPids: Record<string, number>,
    intervalMs = 50,
  ) {
    for (const root of Object.values(rootPids)) for (const [pid, ticks] of treeNow(root)) this.first.set(pid, ticks);
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  private sample(): void {
    for (const [name, root] of Object.entries(this.rootPids)) {
      for (const [pid, ticks] of treeNow(root)) {
        this.owner.set(pid, name);
        this.last.set(pid, ticks);
      }
    }
  }

  /** Takes a last sample and stops: the seconds each root's tree spent since the start. */
  stop(): Record<string, number> {
    clearInterval(this.timer);
    this.sample();
    const out: Record<string, number> = Object.fromEntries(Object.keys(this.rootPids).map((k) => [k, 0]));
    for (const [pid, ticks] of this.last) {
      const name = this.owner.get(pid)!;
      out[name]! += (ticks - (this.first.get(pid) ?? 0)) / clockTicks();
    }
    return out;
  }
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
