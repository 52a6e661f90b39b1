// A manager in a process of its own, for tests that send it real signals
// (SIGTERM) or kill it (SIGKILL). Configured by environment: KUBECONFIG,
// NAMESPACE, IDENTITY, LEASE_MS. Logs JSON lines to stderr.
import { KubeConfig } from '@kubernetes/client-node';
import { jsonLogger } from '../../runtime/logger.ts';
import { Manager } from '../../runtime/manager.ts';
import { kinds } from '../../runtime/resource.ts';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};

const kc = new KubeConfig();
kc.loadFromFile(env('KUBECONFIG'));
const namespace = env('NAMESPACE');
const leaseMs = Number(process.env['LEASE_MS'] ?? 3_000);
const m = new Manager({
  kubeConfig: kc,
  name: 'manager-process',
  namespace,
  log: jsonLogger({ fields: { identity: env('IDENTITY') } }),
  leaderElection: {
    namespace,
    name: 'yard-test',
    identity: env('IDENTITY'),
    leaseDurationMs: leaseMs,
    renewDeadlineMs: (leaseMs * 2) / 3,
    retryPeriodMs: leaseMs / 10,
  },
  probePort: 0,
  probeHost: '127.0.0.1',
  shutdownTimeoutMs: 5_000,
});
m.add({
  name: 'noop',
  for: { type: kinds.ConfigMap },
  rbac: [],
  reconcile: () => Promise.resolve(),
});
try {
  await m.start();
  process.exitCode = 0;
} catch (err) {
  process.stderr.write(`${JSON.stringify({ level: 'error', msg: String(err) })}\n`);
  process.exitCode = 1;
}
