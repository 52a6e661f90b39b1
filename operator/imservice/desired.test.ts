import { describe, expect, it } from 'vitest';
import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import {
  deploymentName,
  desiredDeployment,
  desiredService,
  priorityClasses,
  serviceRoutable,
  templateHash,
} from './desired.ts';
import type { IMServiceView } from './desired.ts';

const template: V1PodTemplateSpec = {
  metadata: { labels: { app: 'logic' } },
  spec: {
    containers: [
      {
        name: 'logic',
        image: 'registry.local/yard/logic:1',
        ports: [{ containerPort: 8080, name: 'http' }],
      },
    ],
  },
};
const svc: IMServiceView = {
  name: 'msg-logic',
  namespace: 'im',
  uid: 'uid-1',
  tier: 'logic',
  businessPriority: 'message',
  capacity: 6,
  schedulerName: 'yard',
  template,
};
const campusB = { name: 'campus-b', nodeSelector: { 'topology.kubernetes.io/zone': 'campus-b' } };

describe('templateHash', () => {
  it('does not depend on key order', () => {
    const reordered: V1PodTemplateSpec = {
      spec: template.spec!,
      metadata: { labels: { app: 'logic' } },
    };
    expect(templateHash(reordered)).toBe(templateHash(template));
  });
  it('changes when the image changes', () => {
    const next = structuredClone(template);
    next.spec!.containers[0]!.image = 'registry.local/yard/logic:2';
    expect(templateHash(next)).not.toBe(templateHash(template));
  });
});

describe('desiredDeployment', () => {
  const d = desiredDeployment(svc, campusB, 3, template, 'h1');
  const pod = d.spec!.template;

  it('is named after the service and campus and owned by the IMService', () => {
    expect(d.metadata?.name).toBe('msg-logic-campus-b');
    expect(d.metadata?.ownerReferences).toEqual([
      expect.objectContaining({
        kind: 'IMService',
        name: 'msg-logic',
        uid: 'uid-1',
        controller: true,
      }),
    ]);
  });

  it('pins pods to the campus, uses the configured scheduler, the serving gate and the business priority', () => {
    expect(d.spec?.replicas).toBe(3);
    expect(pod.spec?.nodeSelector).toEqual({ 'topology.kubernetes.io/zone': 'campus-b' });
    expect(pod.spec?.schedulerName).toBe('yard');
    expect(pod.spec?.readinessGates).toEqual([{ conditionType: 'yard.dev/serving' }]);
    expect(pod.spec?.priorityClassName).toBe('yard-message');
    expect(pod.metadata?.labels).toMatchObject({
      app: 'logic',
      'yard.dev/imservice': 'msg-logic',
      'yard.dev/campus': 'campus-b',
      'yard.dev/framework': 'online',
    });
    expect(d.spec?.selector.matchLabels).toEqual({
      'yard.dev/imservice': 'msg-logic',
      'yard.dev/campus': 'campus-b',
    });
  });

  it('records the template hash on the Deployment and its pods', () => {
    expect(d.metadata?.annotations?.['yard.dev/template-hash']).toBe('h1');
    expect(pod.metadata?.annotations?.['yard.dev/template-hash']).toBe('h1');
  });

  it('does not add the serving gate twice', () => {
    const gated = structuredClone(template);
    gated.spec!.readinessGates = [{ conditionType: 'yard.dev/serving' }];
    expect(
      desiredDeployment(svc, campusB, 1, gated, 'h').spec?.template.spec?.readinessGates,
    ).toHaveLength(1);
  });
});

describe('deploymentName', () => {
  it('keeps long names within 63 characters, distinct per campus', () => {
    const long = 'x'.repeat(60);
    const a = deploymentName(long, 'campus-a');
    const b = deploymentName(long, 'campus-b');
    expect(a.length).toBeLessThanOrEqual(63);
    expect(a).not.toBe(b);
  });
});

describe('desiredService and priority classes', () => {
  it('selects every campus of the service and exposes its container ports', () => {
    const s = desiredService(svc);
    expect(s.spec?.selector).toEqual({ 'yard.dev/imservice': 'msg-logic' });
    expect(s.spec?.ports).toEqual([
      { name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP' },
    ]);
  });

  it('orders business classes payment > message > groupchat > moments > offline, and offline never preempts', () => {
    const pcs = priorityClasses();
    const value = (n: string) => pcs.find((p) => p.metadata?.name === n)?.value ?? -1;
    expect(value('yard-payment')).toBeGreaterThan(value('yard-message'));
    expect(value('yard-message')).toBeGreaterThan(value('yard-groupchat'));
    expect(value('yard-groupchat')).toBeGreaterThan(value('yard-moments'));
    expect(value('yard-moments')).toBeGreaterThan(value('yard-offline'));
    expect(pcs.find((p) => p.metadata?.name === 'yard-offline')?.preemptionPolicy).toBe('Never');
  });
});

describe('serviceRoutable', () => {
  const routable = ['10.244.1.0/24', '10.244.2.0/24'];
  const loopback = ['127.16.0.0/24', '127.16.1.0/24'];
  it.each<[string, Record<string, string> | undefined, string[], boolean]>([
    ['pods on nodes with routable pod CIDRs get a Service', { app: 'logic' }, routable, true],
    [
      'nodes that publish no pod CIDR: a Service (their IPAM is not ours to judge)',
      undefined,
      [],
      true,
    ],
    [
      'pods of nodes whose pod CIDRs are all loopback get none (EndpointSlices refuse them)',
      { app: 'logic' },
      loopback,
      false,
    ],
    [
      'one loopback node among routable ones: none (one loopback address fails the whole EndpointSlice)',
      undefined,
      [...routable, loopback[0]!],
      false,
    ],
    [
      'pods the node agent runs on loopback addresses get none, whatever the nodes say',
      { 'yard.dev/runtime': 'process' },
      routable,
      false,
    ],
    [
      "another runtime value is not the node agent's",
      { 'yard.dev/runtime': 'other' },
      routable,
      true,
    ],
  ])('%s', (_, labels, cidrs, want) => {
    expect(
      serviceRoutable({ ...(labels ? { metadata: { labels } } : {}), spec: template.spec! }, cidrs),
    ).toBe(want);
  });
});
