import { describe, expect, it } from 'vitest';
import { parseVersion, searchDirs } from './binaries.ts';
import { binCacheDir, expectedVersion, versions } from './versions.ts';

describe('parseVersion', () => {
  it.each([
    ['etcd', 'etcd Version: 3.6.16\nGit SHA: Not provided\nGo Version: go1.26.8\n', '3.6.16'],
    ['kube-apiserver', 'Kubernetes v1.36.3\n', 'v1.36.3'],
    ['kube-apiserver', 'Kubernetes v0.0.0-master+$Format:%H$\n', 'v0.0.0-master+$Format:%H$'],
    ['kubectl', 'Client Version: v1.36.3\nKustomize Version: v5.8.1\n', 'v1.36.3'],
    ['kwok', 'kwok version v0.8.0 go1.26.8 (linux/amd64)\n', 'v0.8.0'],
    ['kube-scheduler', 'something else', undefined],
  ] as const)('%s: %j → %s', (c, out, want) => {
    expect(parseVersion(c, out)).toBe(want);
  });

  it('expects the pinned versions in the form each binary prints them', () => {
    expect(expectedVersion('etcd')).toBe(versions.etcd.slice(1));
    expect(expectedVersion('kubectl')).toBe(versions.kubernetes);
  });
});

describe('searchDirs', () => {
  it('looks on KUBEBUILDER_ASSETS first, then PATH, then the cache keyed by version', () => {
    const env = { KUBEBUILDER_ASSETS: '/assets', PATH: '/a:/b', YARD_CACHE_DIR: '/c' };
    expect(searchDirs(env)).toEqual(['/assets', '/a', '/b', binCacheDir(env)]);
    expect(binCacheDir(env)).toBe(
      `/c/bin/k8s-${versions.kubernetes}_etcd-${versions.etcd}_kwok-${versions.kwok}`,
    );
  });
});
