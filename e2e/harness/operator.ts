// Runs Yard's operator in the test process against the run's cluster: a real
// Manager with real informers and controllers, stopped after the test.
import type { KubeConfig } from '@kubernetes/client-node';
import { Manager, nullLogger } from '../../runtime/index.ts';
import type { ManagerOptions } from '../../runtime/index.ts';

export interface RunningOperator {
  readonly manager: Manager;
  /** Resolves when the manager has stopped (it rejects only on a lost lease). */
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts a manager with the controllers `setup` adds. One replica, no leader
 * election unless asked, no probe port, no signal handling: the test owns it.
 */
export function runOperator(
  kc: KubeConfig,
  setup: (m: Manager) => void,
  over: Partial<ManagerOptions> = {},
): RunningOperator {
  const manager = new Manager({
    kubeConfig: kc,
    leaderElection: false,
    probePort: false,
    handleSignals: false,
    log: process.env['YARD_TEST_LOGS'] ? undefined : nullLogger,
    shutdownTimeoutMs: 5_000,
    ...over,
  } as ManagerOptions);
  setup(manager);
  const done = manager.start();
  return { manager, done, stop: () => manager.stop() };
}
