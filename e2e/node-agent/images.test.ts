import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findImage, imageTable, launchProblem, repositoryOf } from './images.ts';
import type { LaunchContext } from './images.ts';
import type { Container } from './types.ts';

describe('repositoryOf', () => {
  it.each([
    ['registry.local/yard/im-access:1.4.2', 'registry.local/yard/im-access'],
    ['registry.local/yard/im-access', 'registry.local/yard/im-access'],
    ['registry.local:5000/yard/echo', 'registry.local:5000/yard/echo'],
    ['registry.local:5000/yard/echo:2', 'registry.local:5000/yard/echo'],
    ['registry.local/yard/im-logic@sha256:abc', 'registry.local/yard/im-logic'],
    ['registry.local/yard/im-logic:1@sha256:abc', 'registry.local/yard/im-logic'],
  ])('%s → %s', (image, want) => {
    expect(repositoryOf(image)).toBe(want);
  });
});

describe('findImage', () => {
  it.each([
    ['registry.local/yard/im-access:1.4.2', 'registry.local/yard/im-access'],
    ['registry.local/yard/im-logic:any-tag', 'registry.local/yard/im-logic'],
    ['registry.local/yard/im-storage@sha256:0f', 'registry.local/yard/im-storage'],
    ['registry.local/yard/im-etcd:3.6', 'registry.local/yard/im-etcd'],
    ['registry.local/yard/echo:1', 'registry.local/yard/echo'],
    ['registry.local/yard/im-accessory:1', undefined],
    ['registry.local/yard/pause:1', undefined],
    ['docker.io/library/nginx:1.27', undefined],
    [undefined, undefined],
  ])('%s runs as %s', (image, want) => {
    expect(findImage(image, imageTable)?.repository).toBe(want);
  });
});

const ctx = (
  over: Partial<LaunchContext> = {},
  container: Partial<Container> = {},
): LaunchContext => ({
  pod: { metadata: { name: 'etcd-a', namespace: 'im' } },
  container: { name: 'etcd', image: 'registry.local/yard/im-etcd:1', ...container },
  podIP: '127.16.0.254',
  podDir: '/agent/pods/im_etcd-a_1234',
  env: {},
  node: '/usr/bin/node26',
  binaries: { etcd: '/cache/etcd' },
  ...over,
});

describe('the TypeScript mains', () => {
  it.each(imageTable.filter((e) => !e.needs))('$repository runs a main that exists', (e) => {
    const got = e.launch(ctx({}, { image: `${e.repository}:1` }));
    expect(got.ok).toBe(true);
    if (!got.ok) return;
    expect(got.file).toBe('/usr/bin/node26');
    expect(got.args).toHaveLength(1);
    expect(got.args[0]).toMatch(/\.ts$/);
    expect(existsSync(got.args[0] ?? '')).toBe(true);
    expect(e.readinessPath).toBe('/readyz');
  });
});

describe('im-etcd', () => {
  const etcd = findImage('registry.local/yard/im-etcd:1', imageTable);
  if (!etcd) throw new Error('no im-etcd entry');

  it('runs a one-member etcd on the pod address when the pod names no peers', () => {
    expect(etcd.launch(ctx())).toEqual({
      ok: true,
      file: '/cache/etcd',
      args: [
        '--name=etcd-a',
        '--data-dir=/agent/pods/im_etcd-a_1234/etcd-data',
        '--listen-client-urls=http://127.16.0.254:2379',
        '--advertise-client-urls=http://127.16.0.254:2379',
        '--listen-peer-urls=http://127.16.0.254:2380',
        '--initial-advertise-peer-urls=http://127.16.0.254:2380',
        '--initial-cluster=etcd-a=http://127.16.0.254:2380',
        '--log-level=warn',
      ],
    });
  });

  it('takes ports named client and peer, and leaves flags the pod sets (as args or ETCD_*) to it', () => {
    const got = etcd.launch(
      ctx(
        { env: { ETCD_LOG_LEVEL: 'info' } },
        {
          ports: [
            { name: 'peer', containerPort: 12380 },
            { name: 'client', containerPort: 12379 },
          ],
          args: ['--initial-cluster=a=http://127.16.0.254:12380,b=http://127.16.2.254:12380'],
        },
      ),
    );
    expect(got.ok && got.args).toEqual([
      '--name=etcd-a',
      '--data-dir=/agent/pods/im_etcd-a_1234/etcd-data',
      '--listen-client-urls=http://127.16.0.254:12379',
      '--advertise-client-urls=http://127.16.0.254:12379',
      '--listen-peer-urls=http://127.16.0.254:12380',
      '--initial-advertise-peer-urls=http://127.16.0.254:12380',
    ]);
    expect(
      etcd.readinessPort?.({ name: 'etcd', ports: [{ name: 'client', containerPort: 12379 }] }),
    ).toBe(12379);
  });

  it('says how to get the binary when it is not built', () => {
    const got = etcd.launch(ctx({ binaries: {} }));
    expect(got).toMatchObject({
      ok: false,
      reason: 'ErrImagePull',
      message: /npm run cluster:build/,
    });
  });
});

describe('launchProblem', () => {
  it.each<{ name: string; c: Container; want: RegExp | undefined }>([
    {
      name: 'a known image runs',
      c: { name: 'm', image: 'registry.local/yard/echo:1' },
      want: undefined,
    },
    {
      name: 'an unknown image cannot be pulled, and the message lists what can',
      c: { name: 'm', image: 'nginx' },
      want: /ErrImagePull: .*no command for image "nginx".*registry\.local\/yard\/echo:\*/,
    },
    {
      name: 'a command override cannot be honoured',
      c: { name: 'm', image: 'registry.local/yard/echo:1', command: ['sh'] },
      want: /CreateContainerError: .*pass flags in "args"/,
    },
  ])('$name', ({ c, want }) => {
    const p = launchProblem(c, imageTable);
    if (want === undefined) expect(p).toBeUndefined();
    else expect(`${p?.reason}: ${p?.message}`).toMatch(want);
  });
});
