import { describe, expect, it } from 'vitest';
import { Store } from './cache.ts';
import type { KubeObject } from './object.ts';

type Pod = KubeObject & { readonly spec?: { readonly nodeName?: string } };

const pod = (ns: string, name: string, rv: string, node = 'n1'): Pod => ({
  metadata: { namespace: ns, name, resourceVersion: rv },
  spec: { nodeName: node },
});

describe('Store', () => {
  it('keys objects namespace/name and cluster-scoped objects by name', () => {
    const s = new Store<KubeObject>();
    s.upsert(pod('a', 'p', '1'));
    s.upsert({ metadata: { name: 'node-1', resourceVersion: '1' } });
    expect(s.keys().sort()).toEqual(['a/p', 'node-1']);
    expect(s.get('a/p')?.metadata?.name).toBe('p');
  });

  it('replace reports what a relist changed: adds, real updates and deletes', () => {
    const s = new Store<Pod>();
    s.replace([pod('a', 'keep', '1'), pod('a', 'change', '1'), pod('a', 'gone', '1')]);
    const r = s.replace([pod('a', 'keep', '1'), pod('a', 'change', '2'), pod('a', 'new', '1')]);
    expect(r.added.map((o) => o.metadata?.name)).toEqual(['new']);
    expect(
      r.updated.map((u) => [u.old.metadata?.resourceVersion, u.obj.metadata?.resourceVersion]),
    ).toEqual([['1', '2']]);
    expect(r.deleted.map((o) => o.metadata?.name)).toEqual(['gone']);
    expect(s.keys().sort()).toEqual(['a/change', 'a/keep', 'a/new']);
  });

  it('keeps indexes current through updates and removals', () => {
    const s = new Store<Pod>({ node: (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []) });
    s.upsert(pod('a', 'p1', '1', 'n1'));
    s.upsert(pod('b', 'p2', '1', 'n1'));
    expect(s.byIndex('node', 'n1').length).toBe(2);
    s.upsert(pod('a', 'p1', '2', 'n2'));
    expect(s.byIndex('node', 'n1').map((p) => p.metadata?.name)).toEqual(['p2']);
    expect(s.byIndex('node', 'n2').map((p) => p.metadata?.name)).toEqual(['p1']);
    s.remove('b/p2');
    expect(s.byIndex('node', 'n1')).toEqual([]);
    expect(s.byIndex('namespace', 'a').length).toBe(1);
  });

  it('indexes what is already stored when an index is added later', () => {
    const s = new Store<Pod>();
    s.upsert(pod('a', 'p1', '1', 'n1'));
    s.addIndexers({ node: (p) => [p.spec?.nodeName ?? ''] });
    expect(s.byIndex('node', 'n1').length).toBe(1);
    expect(() => s.addIndexers({ node: () => [] })).toThrow(/already/);
    expect(() => s.byIndex('nope', 'x')).toThrow(/no index/);
  });

  it('freezes stored objects: a reconcile cannot corrupt what others read', () => {
    const s = new Store<Pod>();
    s.upsert(pod('a', 'p', '1'));
    const p = s.get('a/p') as { spec: { nodeName: string } };
    expect(() => {
      p.spec.nodeName = 'elsewhere';
    }).toThrow(TypeError);
  });
});
