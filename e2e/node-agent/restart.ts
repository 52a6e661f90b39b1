// Restarts and the pod's phase, as the kubelet decides them. Pure.
import { constants } from 'node:os';
import type { ContainerState, RestartPolicy } from './types.ts';

/**
 * CrashLoopBackOff: the first restart of a streak is immediate, then the
 * delay doubles from `baseMs` up to `maxMs`; a run of `resetAfterMs` or more
 * ends the streak. The kubelet's are 10 s, 5 min and 10 min; the defaults here
 * are shorter because drills and the demo last minutes, not hours.
 */
export interface RestartBackoff {
  readonly baseMs: number;
  readonly maxMs: number;
  readonly resetAfterMs: number;
}

export const defaultRestartBackoff: RestartBackoff = {
  baseMs: 1_000,
  maxMs: 30_000,
  resetAfterMs: 60_000,
};

export function restartPolicyOf(policy: string | undefined): RestartPolicy {
  return policy === 'Never' || policy === 'OnFailure' ? policy : 'Always';
}

export function shouldRestart(policy: RestartPolicy, exitCode: number): boolean {
  return policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
}

/** The crash streak after an exit: a long enough run starts a new one. */
export function nextStreak(streak: number, ranMs: number, b: RestartBackoff): number {
  return ranMs >= b.resetAfterMs ? 1 : streak + 1;
}

/** The wait before restarting after the `streak`-th exit in a row (1 = the first). */
export function restartDelay(streak: number, b: RestartBackoff): number {
  if (streak <= 1) return 0;
  return Math.min(b.maxMs, b.baseMs * 2 ** Math.min(streak - 2, 30));
}

/** A process's end as a container's: a signal `s` is exit code 128 + s, as runtimes report it. */
export function exitOf(
  code: number | null,
  signal: string | null,
): { readonly exitCode: number; readonly signal?: number } {
  if (signal) {
    const n = (constants.signals as Record<string, number | undefined>)[signal] ?? 0;
    return { exitCode: 128 + n, signal: n };
  }
  return { exitCode: code ?? 0 };
}

/** The container runtime's name for a container's end. */
export function terminationReason(exitCode: number): 'Completed' | 'Error' {
  return exitCode === 0 ? 'Completed' : 'Error';
}

export interface PhaseInput {
  readonly state: ContainerState;
  readonly lastState?: ContainerState | undefined;
}

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

/** kubelet's getPhase for the regular containers of a pod. */
export function podPhase(containers: readonly PhaseInput[], policy: RestartPolicy): PodPhase {
  let waiting = 0;
  let running = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const c of containers) {
    if (c.state.running) running++;
    else if (c.state.terminated) {
      stopped++;
      if (c.state.terminated.exitCode === 0) succeeded++;
    } else if (c.lastState?.terminated) stopped++;
    else waiting++;
  }
  if (waiting > 0 || containers.length === 0) return 'Pending';
  if (running > 0) return 'Running';
  if (policy === 'Always') return 'Running';
  if (stopped === succeeded) return 'Succeeded';
  if (policy === 'Never') return 'Failed';
  return 'Running';
}
