import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A process the control plane started, as recorded in its state file. */
export interface ProcessRecord {
  readonly name: string;
  readonly pid: number;
  /** /proc/<pid>/stat start time, so a reused pid is never mistaken for ours. */
  readonly startTime: string;
  readonly log: string;
  readonly args: readonly string[];
}

export class StartError extends Error {
  readonly component: string;
  constructor(component: string, message: string, options?: { cause?: unknown }) {
    super(`${component}: ${message}`, options);
    this.name = 'StartError';
    this.component = component;
  }
}

/** The start time of a live process (from /proc), or undefined when it is gone or a zombie. */
export function procStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name may contain spaces and parentheses: fields start after the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = fields[0];
    if (state === 'Z' || state === 'X') return undefined;
    return fields[19];
  } catch {
    return undefined;
  }
}

export function isAlive(rec: Pick<ProcessRecord, 'pid' | 'startTime'>): boolean {
  return procStartTime(rec.pid) === rec.startTime;
}

/**
 * Starts a long-running component detached from the caller (its own process
 * group, output to a log file), so it keeps running after `cluster:up` returns
 * and can be stopped later from any shell through the recorded pid.
 */
export function startDetached(
  name: string,
  bin: string,
  args: readonly string[],
  log: string,
  env: NodeJS.ProcessEnv = process.env,
): ProcessRecord {
  const fd = openSync(log, 'a');
  try {
    const child = spawn(bin, args, { detached: true, stdio: ['ignore', fd, fd], env });
    child.unref();
    if (child.pid === undefined) throw new StartError(name, `could not start ${bin}`);
    const startTime = procStartTime(child.pid) ?? '';
    return { name, pid: child.pid, startTime, log, args };
  } finally {
    closeSync(fd);
  }
}

/** The last lines of a log, for error messages that say why a part failed. */
export function logTail(path: string, lines = 25): string {
  try {
    const size = statSync(path).size;
    const text = readFileSync(path, 'utf8').slice(Math.max(0, size - 64 * 1024));
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Polls `probe` until it returns true, failing early with the log tail when
 * the process dies, and with the last probe error when the deadline passes.
 */
export async function waitHealthy(
  rec: ProcessRecord,
  probe: () => Promise<boolean>,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'not probed yet';
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    if (!isAlive(rec)) {
      throw new StartError(
        rec.name,
        `exited during start-up. Last lines of ${rec.log}:\n${logTail(rec.log)}`,
      );
    }
    try {
      if (await probe()) return;
      last = 'not healthy yet';
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(200);
  }
  throw new StartError(
    rec.name,
    `not healthy after ${timeoutMs / 1000}s (last probe: ${last}). Last lines of ${rec.log}:\n${logTail(rec.log)}`,
  );
}

/** SIGTERM, a bounded wait, then SIGKILL of the whole process group. */
export async function stopProcess(rec: ProcessRecord, graceMs = 5000): Promise<void> {
  if (!isAlive(rec)) return;
  const signal = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-rec.pid, sig);
    } catch {
      try {
        process.kill(rec.pid, sig);
      } catch {
        // already gone
      }
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(rec)) return;
    await sleep(100);
  }
  signal('SIGKILL');
  const killDeadline = Date.now() + 5000;
  while (isAlive(rec) && Date.now() < killDeadline) await sleep(50);
}

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Fails with a clear message when a port the user asked for is taken. */
export async function assertPortFree(port: number, component: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new StartError(
          component,
          `port 127.0.0.1:${port} is taken (${err.code ?? err.message}); free it or choose another port`,
        ),
      ),
    );
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve()));
  });
}
