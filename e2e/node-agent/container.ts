// One container of a pod as a local process: spawn it in its own process
// group (so a freeze or a stop reaches the whole of it), watch it exit,
// restart it per the pod's restart policy with back-off, run its readiness
// check, freeze and thaw it, stop it with SIGTERM then SIGKILL. Decisions are
// the pure ones of restart.ts and readiness.ts; this file holds the timers and
// the process.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { rfc3339 } from '../../runtime/clock.ts';
import type { Logger } from '../../runtime/logger.ts';
import { logTail } from '../control-plane/process.ts';
import { runCheck } from './probe.ts';
import { initialProbeState, nextProbeDelay, observe } from './readiness.ts';
import type { ProbeSpec, ProbeState } from './readiness.ts';
import { exitOf, nextStreak, restartDelay, shouldRestart, terminationReason } from './restart.ts';
import type { RestartBackoff } from './restart.ts';
import type { ContainerState, ContainerView, RestartPolicy, TerminatedState } from './types.ts';

/** What to run, or why it cannot run (a reason and message for the container's waiting state). */
export type Prepared =
  | {
      readonly ok: true;
      readonly file: string;
      readonly args: readonly string[];
      readonly env: Readonly<Record<string, string>>;
      readonly cwd: string;
      readonly logFile: string;
    }
  | { readonly ok: false; readonly reason: string; readonly message: string };

export interface ContainerHooks {
  /** Something in this container's view changed: look at the pod again. */
  changed(): void;
  /** Whether the pod's node is blackholed right now. */
  frozen(): boolean;
  /** Builds the command line and environment; called before every start. */
  prepare(): Promise<Prepared>;
  /** A process started or ended (the reaper's list). */
  started(pid: number): void;
  ended(pid: number): void;
  /** A Kubernetes Event about the pod, as the kubelet records one. */
  event(type: 'Normal' | 'Warning', reason: string, action: string, note: string): void;
  readonly log: Logger;
}

export interface ContainerOptions {
  readonly name: string;
  readonly image: string;
  /** For messages: `namespace/name`. */
  readonly pod: string;
  readonly policy: RestartPolicy;
  readonly backoff: RestartBackoff;
  readonly probe: ProbeSpec;
  /** Restarts before this agent took the pod over (an agent restart). */
  readonly restartCount: number;
  readonly hooks: ContainerHooks;
}

/** How long to wait before trying again to start a container that could not be prepared. */
const prepareRetryMs = 5_000;
/** How long to wait for a process to die after SIGKILL. */
const killWaitMs = 5_000;

/** Sends `signal` to a process group; false when it is gone. */
export function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** The end of a log, as a failed container's termination message (at most 2 KiB). */
function terminationMessage(logFile: string): string | undefined {
  const tail = logTail(logFile, 10);
  return tail && tail !== '(no log)' ? tail.slice(-2048) : undefined;
}

export class ContainerRun {
  readonly name: string;
  readonly image: string;
  readonly #o: ContainerOptions;
  #state: ContainerState = { waiting: { reason: 'ContainerCreating' } };
  #lastState: ContainerState | undefined;
  #restartCount: number;
  #child: ChildProcess | undefined;
  #pid: number | undefined;
  #startedAt = 0;
  #probe: ProbeState = initialProbeState;
  #probeTimer: NodeJS.Timeout | undefined;
  #timer: NodeJS.Timeout | undefined;
  #streak = 0;
  #stopping = false;
  #deferred = false;
  #launching = false;
  #frozen = false;
  #exited: Promise<void> = Promise.resolve();

  constructor(o: ContainerOptions) {
    this.name = o.name;
    this.image = o.image;
    this.#o = o;
    this.#restartCount = o.restartCount;
  }

  /** The pid of the running process, if any. */
  get pid(): number | undefined {
    return this.#child ? this.#pid : undefined;
  }

  view(): ContainerView {
    return {
      name: this.name,
      image: this.image,
      ...(this.#pid !== undefined ? { containerID: `process://${this.#pid}` } : {}),
      state: this.#state,
      ...(this.#lastState ? { lastState: this.#lastState } : {}),
      restartCount: this.#restartCount,
      ready: this.#state.running !== undefined && this.#probe.ready,
    };
  }

  start(): void {
    void this.#launch();
  }

  async #launch(): Promise<void> {
    if (this.#stopping || this.#child || this.#launching) return;
    if (this.#o.hooks.frozen()) {
      this.#deferred = true; // a blackholed node starts nothing until it thaws
      return;
    }
    let prepared: Prepared;
    this.#launching = true;
    try {
      prepared = await this.#o.hooks.prepare();
    } catch (err) {
      prepared = { ok: false, reason: 'CreateContainerError', message: String(err) };
    } finally {
      this.#launching = false;
    }
    if (this.#stopping || this.#child) return;
    if (this.#o.hooks.frozen()) {
      this.#deferred = true;
      return;
    }
    if (!prepared.ok) {
      this.#o.hooks.event('Warning', prepared.reason, 'Start', prepared.message);
      this.#setState({ waiting: { reason: prepared.reason, message: prepared.message } });
      this.#timer = setTimeout(() => void this.#launch(), prepareRetryMs);
      return;
    }
    this.#spawn(prepared);
  }

  #spawn(p: Extract<Prepared, { ok: true }>): void {
    const fd = openSync(p.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(p.file, [...p.args], {
        cwd: p.cwd,
        env: p.env,
        detached: true,
        stdio: ['ignore', fd, fd],
      });
    } catch (err) {
      this.#startFailed(err);
      return;
    } finally {
      closeSync(fd);
    }
    child.on('error', (err) => {
      if (child.pid === undefined) this.#startFailed(err);
    });
    if (child.pid === undefined) return; // 'error' follows
    const pid = child.pid;
    this.#child = child;
    this.#pid = pid;
    this.#startedAt = Date.now();
    this.#probe = initialProbeState;
    let exited!: () => void;
    this.#exited = new Promise((r) => (exited = r));
    child.once('exit', (code, signal) => {
      this.#onExit(child, code, signal, p.logFile);
      exited();
    });
    this.#o.hooks.started(pid);
    this.#o.hooks.log.info('container started', { container: this.name, pid, file: p.file });
    this.#o.hooks.event(
      'Normal',
      'Started',
      'Start',
      `Started container ${this.name} as process ${pid}`,
    );
    this.#setState({ running: { startedAt: rfc3339(this.#startedAt) } });
    this.#scheduleProbe(child, this.#o.probe.initialDelayMs);
  }

  #startFailed(err: unknown): void {
    const now = rfc3339(Date.now());
    const message = err instanceof Error ? err.message : String(err);
    this.#afterEnd(
      { exitCode: 128, reason: 'StartError', message, startedAt: now, finishedAt: now },
      0,
    );
  }

  #onExit(child: ChildProcess, code: number | null, signal: string | null, logFile: string): void {
    if (this.#child !== child) return;
    this.#child = undefined;
    clearTimeout(this.#probeTimer);
    if (this.#pid !== undefined) this.#o.hooks.ended(this.#pid);
    const end = exitOf(code, signal);
    const tail = end.exitCode !== 0 ? terminationMessage(logFile) : undefined;
    const terminated: TerminatedState = {
      exitCode: end.exitCode,
      ...(end.signal ? { signal: end.signal } : {}),
      reason: terminationReason(end.exitCode),
      ...(tail ? { message: tail } : {}),
      startedAt: rfc3339(this.#startedAt),
      finishedAt: rfc3339(Date.now()),
      containerID: `process://${this.#pid ?? 0}`,
    };
    this.#o.hooks.log.info('container exited', {
      container: this.name,
      pid: this.#pid,
      exitCode: end.exitCode,
      signal,
    });
    this.#afterEnd(terminated, Date.now() - this.#startedAt);
  }

  /** A run ended (or never began): restart per the policy, with back-off, or stay terminated. */
  #afterEnd(terminated: TerminatedState, ranMs: number): void {
    this.#probe = initialProbeState;
    if (this.#stopping || !shouldRestart(this.#o.policy, terminated.exitCode)) {
      this.#setState({ terminated });
      return;
    }
    this.#streak = nextStreak(this.#streak, ranMs, this.#o.backoff);
    const delay = restartDelay(this.#streak, this.#o.backoff);
    this.#lastState = { terminated };
    if (delay > 0) {
      this.#o.hooks.event(
        'Warning',
        'BackOff',
        'Restart',
        `Back-off ${Math.round(delay / 1000)}s restarting failed container ${this.name} (exit code ${terminated.exitCode})`,
      );
    }
    this.#setState({
      waiting:
        delay > 0
          ? {
              reason: 'CrashLoopBackOff',
              message: `back-off ${Math.round(delay / 1000)}s restarting failed container=${this.name} pod=${this.#o.pod}`,
            }
          : { reason: 'ContainerCreating' },
    });
    this.#timer = setTimeout(() => {
      this.#restartCount++;
      void this.#launch();
    }, delay);
  }

  #setState(s: ContainerState): void {
    this.#state = s;
    this.#o.hooks.changed();
  }

  #scheduleProbe(child: ChildProcess, delayMs: number): void {
    clearTimeout(this.#probeTimer);
    this.#probeTimer = setTimeout(() => void this.#probeOnce(child), delayMs);
  }

  async #probeOnce(child: ChildProcess): Promise<void> {
    const spec = this.#o.probe;
    if (this.#child !== child) return;
    // while frozen the check would only time out: the result is the
    // blackhole's, and callers, not the agent, must notice it
    if (!this.#o.hooks.frozen()) {
      const ok = await runCheck(spec.check, spec.timeoutMs);
      if (this.#child !== child) return;
      if (!this.#o.hooks.frozen()) {
        const next = observe(this.#probe, ok, spec);
        const flipped = next.ready !== this.#probe.ready;
        this.#probe = next;
        if (flipped) this.#o.hooks.changed();
      }
    }
    this.#scheduleProbe(child, nextProbeDelay(this.#probe, spec));
  }

  /** SIGSTOP or SIGCONT to match `frozen`; a start deferred by a freeze happens on thaw. */
  setFrozen(frozen: boolean): void {
    if (frozen !== this.#frozen && this.#child && this.#pid !== undefined) {
      signalGroup(this.#pid, frozen ? 'SIGSTOP' : 'SIGCONT');
    }
    this.#frozen = frozen;
    if (!frozen && this.#deferred) {
      this.#deferred = false;
      void this.#launch();
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#probeTimer);
    const pid = this.#child ? this.#pid : undefined;
    if (pid === undefined) return;
    const exited = this.#exited;
    this.#o.hooks.event('Normal', 'Killing', 'Stop', `Stopping container ${this.name}`);
    signalGroup(pid, 'SIGTERM');
    signalGroup(pid, 'SIGCONT'); // a frozen process handles SIGTERM only once it runs
    if (await settlesWithin(exited, graceMs)) return;
    this.#o.hooks.log.warn('container ignored SIGTERM; killing it', {
      container: this.name,
      pid,
      graceMs,
    });
    signalGroup(pid, 'SIGKILL');
    if (!(await settlesWithin(exited, killWaitMs))) {
      this.#o.hooks.log.error('container survived SIGKILL', { container: this.name, pid });
    }
  }
}

async function settlesWithin(p: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([p.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
