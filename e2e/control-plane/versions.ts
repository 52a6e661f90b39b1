import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The pinned versions of the local control plane. Binaries found on
 * KUBEBUILDER_ASSETS or PATH are used only when they report these versions;
 * otherwise they are built once from their Go modules into a cache keyed by
 * this set.
 */
export const versions = {
  kubernetes: 'v1.36.3',
  etcd: 'v3.6.16',
  kwok: 'v0.8.0',
} as const;

export const components = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kubectl',
  'kwok',
] as const;
export type Component = (typeof components)[number];

/** The version each component must report, as it prints it. */
export function expectedVersion(c: Component): string {
  if (c === 'etcd') return versions.etcd.replace(/^v/, '');
  if (c === 'kwok') return versions.kwok;
  return versions.kubernetes;
}

/** Where Yard keeps things that outlive a work tree (the binary cache). */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env['YARD_CACHE_DIR']) return env['YARD_CACHE_DIR'];
  const xdg = env['XDG_CACHE_HOME'] || join(homedir(), '.cache');
  return join(xdg, 'yard');
}

export function binCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const key = `k8s-${versions.kubernetes}_etcd-${versions.etcd}_kwok-${versions.kwok}`;
  return join(cacheRoot(env), 'bin', key);
}
