// The core's decisions → the API calls Yard makes, as tables.
import { describe, expect, it } from 'vitest';
import type { Decision } from '../core/index.ts';
import {
  bindingRequest,
  evictionRequest,
  nominateRequest,
  plan,
  unschedulableRequest,
  type Action,
  type PodStatusView,
} from './actions.ts';

const fresh = (): PodStatusView => ({ nominatedNode: undefined, unschedulableMessage: undefined });

describe('plan', () => {
  it.each<{
    name: string;
    decisions: Decision[];
    status?: Record<string, PodStatusView>;
    want: Action[];
  }>([
    {
      name: 'a bind binds',
      decisions: [{ kind: 'bind', pod: 'ns/a', node: 'n1' }],
      want: [{ kind: 'bind', pod: 'ns/a', node: 'n1' }],
    },
    {
      name: 'a preemption evicts each victim, nominates the node and reports on the preemptor',
      decisions: [
        { kind: 'preempt', for: 'ns/web', node: 'n2', victims: ['ns/b1', 'ns/b2'], reason: 'why' },
      ],
      want: [
        { kind: 'evict', pod: 'ns/b1', for: 'ns/web', reason: 'why' },
        { kind: 'evict', pod: 'ns/b2', for: 'ns/web', reason: 'why' },
        { kind: 'nominate', pod: 'ns/web', node: 'n2' },
        { kind: 'report', pod: 'ns/web', never: false, reason: 'why', condition: true },
      ],
    },
    {
      name: 'a revocation evicts, for nobody in particular',
      decisions: [{ kind: 'revoke', campus: 'campus-b', victims: ['ns/b1'], reason: 'shield' }],
      want: [{ kind: 'evict', pod: 'ns/b1', for: undefined, reason: 'shield' }],
    },
    {
      name: 'evictions go first, whatever the order of the decisions',
      decisions: [
        { kind: 'bind', pod: 'ns/a', node: 'n1' },
        { kind: 'revoke', campus: 'campus-b', victims: ['ns/b1'], reason: 'shield' },
      ],
      want: [
        { kind: 'evict', pod: 'ns/b1', for: undefined, reason: 'shield' },
        { kind: 'bind', pod: 'ns/a', node: 'n1' },
      ],
    },
    {
      name: 'a gang that cannot start: a report on each pod',
      decisions: [
        { kind: 'unschedulable', ask: 'ns/job', pods: ['ns/j0', 'ns/j1'], reason: 'short' },
      ],
      want: [
        { kind: 'report', pod: 'ns/j0', never: false, reason: 'short', condition: true },
        { kind: 'report', pod: 'ns/j1', never: false, reason: 'short', condition: true },
      ],
    },
    {
      name: 'room held for a pod: its nominated node',
      decisions: [
        { kind: 'unschedulable', ask: 'ns/w', pods: ['ns/w'], reason: 'wait', nominatedNode: 'n3' },
      ],
      want: [
        { kind: 'nominate', pod: 'ns/w', node: 'n3' },
        { kind: 'report', pod: 'ns/w', never: false, reason: 'wait', condition: true },
      ],
    },
    {
      name: 'never: a report marked never',
      decisions: [{ kind: 'never', ask: 'ns/big', pods: ['ns/big'], reason: 'too big' }],
      want: [{ kind: 'report', pod: 'ns/big', never: true, reason: 'too big', condition: true }],
    },
    {
      name: 'what the pod already says is not said again',
      decisions: [
        { kind: 'unschedulable', ask: 'ns/w', pods: ['ns/w'], reason: 'wait', nominatedNode: 'n3' },
      ],
      status: { 'ns/w': { nominatedNode: 'n3', unschedulableMessage: 'wait' } },
      want: [],
    },
    {
      name: 'a changed message within 10 s of the last report waits',
      decisions: [{ kind: 'unschedulable', ask: 'ns/j', pods: ['ns/j0'], reason: '3 CPU free' }],
      status: {
        'ns/j0': {
          nominatedNode: undefined,
          unschedulableMessage: '4 CPU free',
          reportedAt: 95_000,
          never: false,
        },
      },
      want: [],
    },
    {
      name: 'a changed message 10 s after the last report is reported',
      decisions: [{ kind: 'unschedulable', ask: 'ns/j', pods: ['ns/j0'], reason: '3 CPU free' }],
      status: {
        'ns/j0': {
          nominatedNode: undefined,
          unschedulableMessage: '4 CPU free',
          reportedAt: 90_000,
          never: false,
        },
      },
      want: [{ kind: 'report', pod: 'ns/j0', never: false, reason: '3 CPU free', condition: true }],
    },
    {
      name: 'turning from "not now" to "never" is reported at once',
      decisions: [{ kind: 'never', ask: 'ns/j', pods: ['ns/j0'], reason: 'queue gone' }],
      status: {
        'ns/j0': {
          nominatedNode: undefined,
          unschedulableMessage: '4 CPU free',
          reportedAt: 99_000,
          never: false,
        },
      },
      want: [{ kind: 'report', pod: 'ns/j0', never: true, reason: 'queue gone', condition: true }],
    },
  ])('$name', ({ decisions, status, want }) => {
    expect(
      plan(decisions, (p) => status?.[p] ?? fresh(), { now: 100_000, minIntervalMs: 10_000 }),
    ).toEqual(want);
  });
});

describe('requests', () => {
  it('a Binding with the pod’s uid as precondition', () => {
    expect(bindingRequest('ns/a', 'n1', 'u-1')).toEqual({
      method: 'POST',
      path: '/api/v1/namespaces/ns/pods/a/binding',
      body: {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name: 'a', namespace: 'ns', uid: 'u-1' },
        target: { apiVersion: 'v1', kind: 'Node', name: 'n1' },
      },
    });
  });

  it('a policy/v1 Eviction of exactly that pod', () => {
    expect(evictionRequest('ns/b', 'u-2')).toEqual({
      method: 'POST',
      path: '/api/v1/namespaces/ns/pods/b/eviction',
      body: {
        apiVersion: 'policy/v1',
        kind: 'Eviction',
        metadata: { name: 'b', namespace: 'ns' },
        deleteOptions: { preconditions: { uid: 'u-2' } },
      },
    });
  });

  it('status.nominatedNodeName, merged', () => {
    expect(nominateRequest('ns/w', 'n3')).toEqual({
      method: 'PATCH',
      path: '/api/v1/namespaces/ns/pods/w/status',
      body: { status: { nominatedNodeName: 'n3' } },
      contentType: 'application/strategic-merge-patch+json',
    });
  });

  it('PodScheduled=False, reason Unschedulable, the reason as message', () => {
    const r = unschedulableRequest(
      'ns/w',
      'campus-b at online ceiling',
      new Date(Date.UTC(2026, 4, 1, 8, 0, 0, 123)),
    );
    expect(r.body).toEqual({
      status: {
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: 'campus-b at online ceiling',
            lastProbeTime: null,
            lastTransitionTime: '2026-05-01T08:00:00Z',
          },
        ],
      },
    });
    expect(r.contentType).toBe('application/strategic-merge-patch+json');
  });

  it('escapes names in paths', () => {
    expect(bindingRequest('my ns/a b', 'n', undefined).path).toBe(
      '/api/v1/namespaces/my%20ns/pods/a%20b/binding',
    );
  });
});
