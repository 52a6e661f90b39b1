// The operator as a real process (`operator/main.ts`), for what an in-process
// manager cannot show: SIGKILL at any instant, SIGTERM, two replicas on one
// Lease, a cold start, the process's own memory. Shared by
// operator/operator.int.test.ts and the operator benchmark.
//
// It runs on `process.execPath`: the Node that runs the caller (the project's
// Node 26 under npm and vitest), not whatever `node` PATH finds first.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../control-plane/cluster.ts';
import { procStatusBytes } from './proc.ts';

export interface OperatorProcessOptions {
  readonly kubeconfig: string;
  /** Lease holder identity; a restarted container keeps its pod's name, so reuse it to model that. */
  readonly identity: string;
  readonly leaseNamespace: string;
  readonly leaseDuration?: string;
  /** Namespace scope of the operator (default: every namespace). */
  readonly namespace?: string;
  readonly logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Characters of log kept for failure messages (default 256 KiB): a long run logs a lot. */
  readonly logLimit?: number;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Date.now() when the exit was seen. */
  readonly at: number;
}

const probesMsg = 'serving /healthz, /readyz and /metrics';

export class OperatorProcess {
  readonly identity: string;
  readonly startedAt: number;
  readonly exited: Promise<Exit>;
  readonly #child: ChildProcess;
  readonly #logLimit: number;
  readonly #port = Promise.withResolvers<number>();
  /** First time (Date.now()) each log message was seen. */
  readonly #seen = new Map<string, number>();
  #log = '';
  #partial = '';
  #exit: Exit | undefined;

  private constructor(opts: OperatorProcessOptions) {
    this.identity = opts.identity;
    this.#logLimit = opts.logLimit ?? 256 * 1024;
    const args = [
      join(repoRoot, 'operator', 'main.ts'),
      '--kubeconfig',
      opts.kubeconfig,
      '--metrics-port',
      '0',
      '--lease-namespace',
      opts.leaseNamespace,
      '--lease-duration',
      opts.leaseDuration ?? '15s',
      '--identity',
      opts.identity,
      '--log-level',
      opts.logLevel ?? 'info',
      ...(opts.namespace ? ['--namespace', opts.namespace] : []),
    ];
    this.startedAt = Date.now();
    this.#child = spawn(process.execPath, args, {
      cwd: repoRoot,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, YARD_LOG_LEVEL: opts.logLevel ?? 'info' },
    });
    this.#child.stderr?.setEncoding('utf8');
    this.#child.stderr?.on('data', (chunk: string) => this.#onLog(chunk));
    // a caller that exits (or crashes) without stopping it must not leave it behind
    const orphaned = (): void => void this.#child.kill('SIGKILL');
    process.once('exit', orphaned);
    this.exited = new Promise<Exit>((resolve) => {
      this.#child.once('exit', (code, signal) => {
        process.off('exit', orphaned);
        this.#exit = { code, signal, at: Date.now() };
        this.#port.reject(new Error(`${this.identity} exited (${code ?? signal}) before serving`));
        resolve(this.#exit);
      });
    });
    // nobody may be waiting for the port (a process killed before it served)
    this.#port.promise.catch(() => {});
  }

  static start(opts: OperatorProcessOptions): OperatorProcess {
    return new OperatorProcess(opts);
  }

  get pid(): number {
    return this.#child.pid ?? -1;
  }

  get alive(): boolean {
    return this.#exit === undefined;
  }

  /** The tail of its JSON log (stderr). */
  get log(): string {
    return this.#log;
  }

  /** When it first logged `msg` (Date.now()), if it has. */
  loggedAt(msg: string): number | undefined {
    return this.#seen.get(msg);
  }

  /** The port of /healthz, /readyz and /metrics once it serves them. */
  async port(timeoutMs = 30_000): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${this.identity} did not serve probes within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.#port.promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async get(path: string, timeoutMs = 5_000): Promise<{ status: number; body: string }> {
    const res = await fetch(`http://127.0.0.1:${await this.port()}${path}`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: res.status, body: await res.text() };
  }

  /** Its /metrics, in Prometheus text format. */
  async metrics(): Promise<string> {
    const r = await this.get('/metrics', 10_000);
    if (r.status !== 200) throw new Error(`/metrics answered ${r.status}`);
    return r.body;
  }

  /** Peak resident set size so far (VmHWM), in bytes; undefined once it exited. */
  peakRssBytes(): number | undefined {
    return this.alive ? procStatusBytes(this.pid, 'VmHWM') : undefined;
  }

  rssBytes(): number | undefined {
    return this.alive ? procStatusBytes(this.pid, 'VmRSS') : undefined;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.alive) this.#child.kill(signal);
  }

  /** SIGKILL unless it already exited; resolves when it has. Safe to call twice. */
  async stop(): Promise<Exit> {
    this.kill('SIGKILL');
    return this.exited;
  }

  #onLog(chunk: string): void {
    this.#log += chunk;
    if (this.#log.length > this.#logLimit) this.#log = this.#log.slice(-this.#logLimit);
    const lines = (this.#partial + chunk).split('\n');
    this.#partial = lines.pop() ?? '';
    for (const line of lines) {
      let entry: { msg?: unknown; port?: unknown };
      try {
        entry = JSON.parse(line) as { msg?: unknown; port?: unknown };
      } catch {
        continue; // not one of its JSON lines (a Node warning)
      }
      if (typeof entry.msg !== 'string') continue;
      if (!this.#seen.has(entry.msg)) this.#seen.set(entry.msg, Date.now());
      if (entry.msg === probesMsg && typeof entry.port === 'number') {
        this.#port.resolve(entry.port);
      }
    }
  }
}
