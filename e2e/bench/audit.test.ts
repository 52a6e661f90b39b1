import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { auditPolicy, countRequests, parseAuditLine } from './audit.ts';

const op = 'system:serviceaccount:yard-system:yard-operator';
const event = (o: {
  id: string;
  user?: string;
  verb: string;
  resource: string;
  subresource?: string;
  stage?: string;
  at: string;
  end: string;
}): string =>
  JSON.stringify({
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID: o.id,
    stage: o.stage ?? 'ResponseComplete',
    verb: o.verb,
    user: { username: o.user ?? op },
    objectRef: { resource: o.resource, ...(o.subresource ? { subresource: o.subresource } : {}) },
    requestReceivedTimestamp: o.at,
    stageTimestamp: o.end,
  });

describe('parseAuditLine', () => {
  it('reads who, what, when and how long (microseconds kept)', () => {
    const line = event({
      id: 'a',
      verb: 'patch',
      resource: 'imservices',
      subresource: 'status',
      at: '2026-11-22T05:45:19.651180Z',
      end: '2026-11-22T05:45:19.665608Z',
    });
    expect(parseAuditLine(line)).toEqual({
      id: 'a',
      user: op,
      verb: 'patch',
      resource: 'imservices/status',
      at: Date.parse('2026-11-22T05:45:19.651Z'),
      tookMs: expect.closeTo(14.428, 3) as number,
    });
  });

  it.each([
    ['a line cut short', '{"kind":"Event","auditID":"x'],
    ['an event without an audit ID', JSON.stringify({ verb: 'get' })],
  ])('skips %s', (_name, line) => {
    expect(parseAuditLine(line)).toBeUndefined();
  });
});

describe('countRequests', () => {
  const dir = mkdtemp(join(tmpdir(), 'yard-audit-'));
  afterAll(async () => rm(await dir, { recursive: true, force: true }));

  it('counts one user’s requests once each, per window, watches apart from latency', async () => {
    const t = (s: number): string => `2026-11-22T05:00:${String(s).padStart(2, '0')}.000000Z`;
    const lines = [
      event({ id: '1', verb: 'patch', resource: 'deployments', at: t(1), end: t(2) }),
      event({ id: '2', verb: 'get', resource: 'leases', at: t(3), end: t(3) }),
      // a watch appears at two stages; only the first counts
      event({
        id: '3',
        verb: 'watch',
        resource: 'pods',
        stage: 'ResponseStarted',
        at: t(4),
        end: t(4),
      }),
      event({ id: '3', verb: 'watch', resource: 'pods', at: t(4), end: t(40) }),
      event({
        id: '4',
        user: 'admin',
        verb: 'patch',
        resource: 'deployments',
        at: t(5),
        end: t(5),
      }),
      event({ id: '5', verb: 'patch', resource: 'deployments', at: t(20), end: t(20) }),
      '{"truncated',
    ];
    const file = join(await dir, 'audit.log');
    await writeFile(file, lines.join('\n') + '\n');
    const got = await countRequests(file, op, [
      { name: 'early', from: Date.parse(t(0)), to: Date.parse(t(10)) },
      { name: 'all', from: Date.parse(t(0)), to: Date.parse(t(59)) },
    ]);
    expect(got['early']).toEqual({
      total: 3,
      byVerb: { patch: 1, get: 1, watch: 1 },
      byResource: { deployments: 1, leases: 1, pods: 1 },
      writes: 1,
      serverMs: { 'patch deployments': 1000, 'get leases': 0 },
    });
    expect(got['all']?.total).toBe(4);
    expect(got['all']?.serverMs['patch deployments']).toBe(500);
  });
});

it('audits only the one user, at Metadata level, nothing else', () => {
  const policy = auditPolicy(op);
  expect(policy).toContain(`users: ['${op}']`);
  expect(policy.trim().split('\n').at(-1)).toBe('  - level: None');
});
