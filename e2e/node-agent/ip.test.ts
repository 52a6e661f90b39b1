import { describe, expect, it } from 'vitest';
import { allocateIp, hostRange } from './ip.ts';

const cidr = '127.16.3.0/24';
const ips = (...last: number[]): Set<string> => new Set(last.map((n) => `127.16.3.${n}`));

describe('allocateIp', () => {
  it.each([
    {
      name: 'an empty node gives the top address',
      inUse: ips(),
      released: [],
      want: '127.16.3.254',
    },
    {
      name: "kwok's addresses at the bottom of the range are never near",
      inUse: ips(...Array.from({ length: 100 }, (_, i) => i + 1)),
      released: [],
      want: '127.16.3.254',
    },
    {
      name: 'addresses pods hold are skipped',
      inUse: ips(254, 253),
      released: [],
      want: '127.16.3.252',
    },
    {
      name: 'an address the agent freed is reused last (kwok may have taken it)',
      inUse: ips(),
      released: ['127.16.3.254'],
      want: '127.16.3.253',
    },
    {
      name: 'when only freed addresses are left, the oldest free one is reused',
      inUse: ips(...Array.from({ length: 251 }, (_, i) => i + 1)),
      released: ['127.16.3.253', '127.16.3.252', '127.16.3.254'],
      want: '127.16.3.253',
    },
    {
      name: 'a freed address a pod holds again is not reused',
      inUse: ips(...Array.from({ length: 252 }, (_, i) => i + 1), 253),
      released: ['127.16.3.253', '127.16.3.254'],
      want: '127.16.3.254',
    },
  ])('$name', ({ inUse, released, want }) => {
    expect(allocateIp({ cidr, inUse, released })).toEqual({ ok: true, ip: want });
  });

  it.each([
    {
      name: 'a free address in the range is given',
      requested: '127.16.3.10',
      want: { ok: true, ip: '127.16.3.10' },
    },
    {
      name: 'an address outside the range is refused',
      requested: '127.16.4.10',
      want: /not a host address/,
    },
    { name: 'the network address is refused', requested: '127.16.3.0', want: /not a host address/ },
    {
      name: 'the broadcast address is refused',
      requested: '127.16.3.255',
      want: /not a host address/,
    },
    {
      name: 'an address a pod holds is refused',
      requested: '127.16.3.7',
      want: /held by another pod/,
    },
    { name: 'text that is no address is refused', requested: 'etcd-a', want: /not a host address/ },
    {
      name: 'an address of the static range is given on any node',
      requested: '127.15.0.3',
      want: { ok: true, ip: '127.15.0.3' },
    },
    {
      name: 'a static address a pod on another node holds is refused',
      requested: '127.15.0.7',
      want: /held by another pod/,
    },
    {
      name: "the static range's network address is refused",
      requested: '127.15.0.0',
      want: /nor of the static range/,
    },
  ])('a requested address: $name', ({ requested, want }) => {
    const got = allocateIp({ cidr, inUse: new Set([...ips(7), '127.15.0.7']), requested });
    if (want instanceof RegExp) {
      expect(got.ok).toBe(false);
      expect(got.ok ? '' : got.reason).toMatch(want);
    } else expect(got).toEqual(want);
  });

  it('says so when the range is full', () => {
    const got = allocateIp({ cidr: '127.16.0.0/30', inUse: new Set(['127.16.0.1', '127.16.0.2']) });
    expect(got).toEqual({
      ok: false,
      reason: 'no free address in 127.16.0.0/30: all 2 are in use',
    });
  });

  it.each(['', '127.16.3.0', '10.0.0.0/33', 'fd00::/64', '127.16.3.0/31'])(
    'refuses the podCIDR %j',
    (bad) => {
      const got = allocateIp({ cidr: bad, inUse: new Set() });
      expect(got.ok ? '' : got.reason).toMatch(/is not an IPv4/);
    },
  );
});

describe('hostRange', () => {
  it('excludes the network and broadcast addresses, also of an unaligned base', () => {
    expect(hostRange('127.16.3.9/24')).toEqual(hostRange('127.16.3.0/24'));
    const r = hostRange('127.16.3.0/24');
    expect(r && r.last - r.first + 1).toBe(254);
  });
});
