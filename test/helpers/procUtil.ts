// Small process/filesystem utilities shared by the server helpers.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program to completion; never throws for a non-zero exit (check `code`). */
export function run(
  file: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      {
        cwd: opts.cwd,
        env: opts.env ?? process.env,
        timeout: opts.timeoutMs ?? 60_000,
        maxBuffer: 16 * 1024 * 1024,
        encoding: 'utf8',
      },
      (err, stdout, stderr) => {
        if (err && typeof (err as NodeJS.ErrnoException).code === 'string') {
          // spawn failure (ENOENT, EACCES...), not an exit status
          reject(new Error(`cannot run ${file}: ${err.message}`));
          return;
        }
        const code = err ? ((err as { code?: number | null }).code ?? null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Like run() but throws with the output when the exit status is not 0. */
export async function runOk(
  file: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunResult> {
  const r = await run(file, args, opts);
  if (r.code !== 0) {
    throw new Error(
      `command failed (exit ${r.code}): ${file} ${args.join(' ')}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`,
    );
  }
  return r;
}

/** A TCP port on 127.0.0.1 that was free a moment ago (callers retry on EADDRINUSE). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Whether `pid` is a live process. A zombie counts as dead: daemons such as the
 * postmaster started by pg_ctl are reparented and may stay unreaped for a while.
 */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** All descendants of `pid` (children, grandchildren...), read from /proc. */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    // "pid (comm) state ppid ..." - comm may contain spaces/parens: split after the last ')'
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(rest[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(name));
    children.set(ppid, list);
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const p = queue.shift()!;
    for (const c of children.get(p) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

export function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone */
  }
}

export async function waitForPidExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!pidAlive(pid)) return true;
    await sleep(25);
  }
  return !pidAlive(pid);
}

/**
 * A watchdog that cleans up when this (test worker) process dies in any way, even by
 * SIGKILL: a detached shell blocked reading a pipe from us. When the pipe closes without
 * "disarm", it runs `cleanupScript`. Normal teardown calls disarm().
 */
export class Watchdog {
  private child: ChildProcess | undefined;

  constructor(cleanupScript: string) {
    const script = `IFS= read -r line; [ "$line" = disarm ] && exit 0; ${cleanupScript}`;
    const child = spawn('/bin/sh', ['-c', script], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    child.on('error', () => {});
    child.stdin?.on('error', () => {});
    child.unref();
    (child.stdin as unknown as net.Socket | null)?.unref?.();
    this.child = child;
  }

  disarm(): void {
    const c = this.child;
    this.child = undefined;
    if (!c) return;
    try {
      c.stdin?.end('disarm\n');
    } catch {
      /* ignore */
    }
  }
}

/** Synchronous best-effort cleanup registry run on process 'exit'. */
const exitHooks = new Set<() => void>();
let exitHookInstalled = false;
export function onProcessExit(fn: () => void): () => void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const h of exitHooks) {
        try {
          h();
        } catch {
          /* ignore */
        }
      }
    });
  }
  exitHooks.add(fn);
  return () => exitHooks.delete(fn);
}

export function rmrf(path: string): void {
  rmSync(path, { recursive: true, force: true });
}

/** Shell-quote one word for /bin/sh. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** How one start of a server went: up, or not, with what it said. */
export type StartOutcome = { ok: true } | { ok: false; output: string };

export interface ServerProcessOptions {
  /** The pid file the server writes (the watchdog reads it). */
  pidFile: string;
  /** The server's temp dir: removed when released. */
  dir: string;
  /** Signal the process's descendants too (sshd's per-connection children). */
  withDescendants?: boolean;
  /** The watchdog SIGKILLs the process half a second after its SIGTERM. */
  watchdogKills?: boolean;
}

/**
 * The process of a server helper (one at a time, restartable on the same ports), with its
 * safety nets: a watchdog that stops it and removes its dir if this test worker dies in any way,
 * and a SIGTERM on process exit.
 */
export class ServerProcess {
  /** The process of the latest start. */
  child: ChildProcess | undefined;
  /** The server's stderr, all starts (the last 200,000 characters). */
  log = '';
  private destroyed = false;
  private readonly watchdog: Watchdog;
  private readonly unhookExit: () => void;

  constructor(private readonly opts: ServerProcessOptions) {
    const kill = opts.watchdogKills ? ' [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null;' : '';
    this.watchdog = new Watchdog(`pid=$(cat ${shq(opts.pidFile)} 2>/dev/null); [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; sleep 0.5;${kill} rm -rf ${shq(opts.dir)}`);
    this.unhookExit = onProcessExit(() => {
      const c = this.child;
      if (c?.pid && c.exitCode === null && c.signalCode === null) {
        if (opts.withDescendants) for (const d of descendants(c.pid)) killQuietly(d, 'SIGTERM');
        killQuietly(c.pid, 'SIGTERM');
      }
    });
  }

  readonly isRunning = (): boolean => {
    const c = this.child;
    return !!c?.pid && c.exitCode === null && c.signalCode === null && pidAlive(c.pid);
  };

  /** Sends `signal` (to the descendants too, if so made), SIGKILL to whatever is left after graceMs, and waits for the exit. */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM', graceMs = 10_000): Promise<void> {
    const proc = this.child;
    if (!proc?.pid || !this.isRunning()) return;
    const pids = [proc.pid, ...(this.opts.withDescendants ? descendants(proc.pid) : [])];
    const exited = new Promise<void>((r) => {
      if (proc.exitCode !== null || proc.signalCode !== null) r();
      else proc.once('exit', () => r());
    });
    for (const p of pids) killQuietly(p, signal);
    for (const p of pids) {
      if (!(await waitForPidExit(p, graceMs))) killQuietly(p, 'SIGKILL');
    }
    await exited;
  }

  /** Makes `proc` the server's process and keeps its stderr in `log`, draining it to the end: a full pipe would block the server. */
  adopt(proc: ChildProcess): void {
    this.child = proc;
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (s: string) => {
      this.log = (this.log + s).slice(-200_000);
    });
  }

  /**
   * Spawns the server (stdin and stdout ignored) and adopt()s it, and settles once: ready when
   * its stderr so far satisfies `readyWhen` (checked as it comes) or `poll` (every 100 ms) says
   * so; not ready, with what it wrote, on a spawn error, on its exit, or after timeoutMs (then it
   * is SIGKILLed). `onSpawn` runs right after the spawn.
   */
  spawn(
    file: string,
    args: string[],
    o: {
      name: string;
      timeoutMs: number;
      /** What the timeout's message says it waited for. */
      waitingFor: string;
      readyWhen?: (output: string) => boolean;
      poll?: (proc: ChildProcess, output: () => string) => Promise<boolean>;
      onSpawn?: (proc: ChildProcess) => void;
    },
  ): Promise<StartOutcome> {
    return new Promise((resolve) => {
      let out = '';
      let settled = false;
      const proc = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      this.adopt(proc);
      o.onSpawn?.(proc);
      const done = (v: StartOutcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(v);
      };
      const timer = setTimeout(() => {
        killQuietly(proc.pid ?? -1, 'SIGKILL');
        done({ ok: false, output: `timeout waiting for ${o.waitingFor}\n${out}` });
      }, o.timeoutMs);
      proc.stderr!.on('data', (s: string) => {
        if (settled) return;
        out += s;
        if (o.readyWhen?.(out)) done({ ok: true });
      });
      proc.on('error', (e) => done({ ok: false, output: `spawn error: ${e.message}` }));
      proc.on('exit', (code, sig) => done({ ok: false, output: `${o.name} exited (code ${code}, signal ${sig})\n${out}` }));
      proc.unref();
      (proc.stderr as unknown as { unref?: () => void }).unref?.();
      const poll = o.poll;
      if (poll) {
        void (async () => {
          while (!settled) {
            if (await poll(proc, () => out)) return done({ ok: true });
            await sleep(100);
          }
        })();
      }
    });
  }

  /**
   * The first start, on ports that were free a moment ago: `attempt` picks them and starts the
   * server; when another process took them meanwhile (`addressInUse` matches), it tries again, 5
   * times at most. Any other failure throws `failure(output, attempt)`.
   */
  async firstStart(attempt: () => Promise<StartOutcome>, addressInUse: RegExp, failure: (output: string, attempt: number) => string): Promise<void> {
    for (let n = 1; ; n++) {
      const r = await attempt();
      if (r.ok) return;
      if (n >= 5 || !addressInUse.test(r.output)) throw new Error(failure(r.output, n));
    }
  }

  /**
   * (Re)start on the same ports; a no-op while running. The old listener may linger a moment
   * after a stop: an "address in use" is tried again, 20 times `pauseMs` apart. Anything else,
   * or the 20th, throws `failure(output)`; so does a start after destroy().
   */
  async restart(name: string, attempt: () => Promise<StartOutcome>, addressInUse: RegExp, pauseMs: number, failure: (output: string) => string): Promise<void> {
    if (this.destroyed) throw new Error(`${name}.start() after destroy()`);
    if (this.isRunning()) return;
    let last = '';
    for (let n = 1; n <= 20; n++) {
      const r = await attempt();
      if (r.ok) return;
      last = r.output;
      if (!addressInUse.test(last)) break;
      await sleep(pauseMs);
    }
    throw new Error(failure(last));
  }

  /** After a failed first start: SIGKILL, then release(). */
  abandon(): void {
    if (this.child?.pid) killQuietly(this.child.pid, 'SIGKILL');
    this.release();
  }

  /** stop(), then release(); `andThen` (the helper's own teardown) runs either way. Final; a second call does nothing. */
  async destroy(graceMs?: number, andThen?: () => Promise<void>): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    try {
      await this.stop('SIGTERM', graceMs);
    } finally {
      try {
        await andThen?.();
      } finally {
        this.release();
      }
    }
  }

  /** Disarms the watchdog and the exit hook, and removes the dir. */
  private release(): void {
    this.watchdog.disarm();
    this.unhookExit();
    rmrf(this.opts.dir);
  }
}
