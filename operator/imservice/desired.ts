// The objects an IMService becomes, pure: one Deployment per campus (as
// OpenKruise's UnitedDeployment does per zone), a Service, and the priority
// classes of the business classes. No client: the reconciler applies them.
import { createHash } from 'node:crypto';
import type {
  V1Deployment,
  V1PodTemplateSpec,
  V1PriorityClass,
  V1Service,
} from '@kubernetes/client-node';
import type { BusinessPriority, IMServiceTier as Tier } from '../../crds/index.ts';
import { canonicalJson } from '../../runtime/object.ts';
import {
  label,
  labelValue,
  annotation,
  podCondition,
  priorityValues,
  priorityClassName,
} from '../../crds/names.ts';

/** What the desired state needs of an IMService. */
export interface IMServiceView {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly tier: Tier;
  readonly businessPriority: BusinessPriority;
  readonly capacity: number;
  readonly schedulerName: string;
  readonly template: V1PodTemplateSpec;
  readonly maxUnavailablePerCampus?: number | string | undefined;
}

export interface CampusPlacement {
  readonly name: string;
  /** Labels that select the campus's nodes. */
  readonly nodeSelector: Readonly<Record<string, string>>;
}

/** A stable short hash of a pod template: key order does not matter. */
export function templateHash(t: V1PodTemplateSpec): string {
  return createHash('sha256').update(canonicalJson(t)).digest('hex').slice(0, 10);
}

/** `<service>-<campus>`, kept a valid name (≤ 63) with a hash when too long. */
export function deploymentName(service: string, campus: string): string {
  const name = `${service}-${campus}`;
  if (name.length <= 63) return name;
  const h = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.slice(0, 54)}-${h}`;
}

const ownerRef = (s: IMServiceView) => ({
  apiVersion: 'yard.dev/v1alpha1',
  kind: 'IMService',
  name: s.name,
  uid: s.uid,
  controller: true,
  blockOwnerDeletion: true,
});

/**
 * The Deployment of one campus. `template` is the pod template this campus
 * runs now (the rollout decides whether that is the new one) and `hash` its
 * hash. Pods are pinned to the campus's nodes, scheduled by `schedulerName`,
 * gated on yard.dev/serving and given their business class's priority.
 */
export function desiredDeployment(
  s: IMServiceView,
  campus: CampusPlacement,
  replicas: number,
  template: V1PodTemplateSpec,
  hash: string,
): V1Deployment {
  const selector = { [label.imservice]: s.name, [label.campus]: campus.name };
  const podLabels = {
    ...template.metadata?.labels,
    ...selector,
    [label.tier]: s.tier,
    [label.businessPriority]: s.businessPriority,
    [label.framework]: 'online',
  };
  const spec = template.spec ?? { containers: [] };
  const gates = spec.readinessGates ?? [];
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: deploymentName(s.name, campus.name),
      namespace: s.namespace,
      labels: { ...selector, [label.tier]: s.tier, [label.managedBy]: 'yard' },
      annotations: { [annotation.templateHash]: hash },
      ownerReferences: [ownerRef(s)],
    },
    spec: {
      replicas,
      selector: { matchLabels: selector },
      strategy: {
        type: 'RollingUpdate',
        rollingUpdate: { maxUnavailable: s.maxUnavailablePerCampus ?? '25%', maxSurge: '25%' },
      },
      template: {
        metadata: {
          ...template.metadata,
          labels: podLabels,
          annotations: { ...template.metadata?.annotations, [annotation.templateHash]: hash },
        },
        spec: {
          ...spec,
          schedulerName: s.schedulerName,
          priorityClassName: priorityClassName(s.businessPriority),
          nodeSelector: { ...spec.nodeSelector, ...campus.nodeSelector },
          readinessGates: gates.some((g) => g.conditionType === podCondition.serving)
            ? gates
            : [...gates, { conditionType: podCondition.serving }],
        },
      },
    },
  };
}

/**
 * Whether a Service can route to the service's pods. Not when their pod
 * addresses are on loopback: the API server refuses those in EndpointSlices,
 * so such a Service never gets an endpoint while the EndpointSlice
 * controller fills Events with FailedToUpdateEndpointSlices. That is so for
 * pods the local node agent runs as processes (`yard.dev/runtime: process`)
 * and for every pod of nodes whose podCIDR is loopback (the local control
 * plane's simulated nodes, even one among others). The IM services do not need a Service: callers
 * find the pods they call by watching them. Anywhere else (routable pod
 * CIDRs, or nodes that publish none) the Service is made.
 */
export function serviceRoutable(
  template: V1PodTemplateSpec,
  podCidrs: readonly string[] = [],
): boolean {
  if (template.metadata?.labels?.[label.runtime] === labelValue.process) return false;
  // one loopback address makes the API server refuse the whole EndpointSlice
  return !podCidrs.some(isLoopbackCidr);
}

/** 127.0.0.0/8 or ::1. */
export function isLoopbackCidr(cidr: string): boolean {
  const ip = cidr.split('/')[0] ?? '';
  return ip.startsWith('127.') || ip === '::1';
}

/** The Service in front of every campus's pods (callers discover pods by watching; see the services issue). */
export function desiredService(s: IMServiceView): V1Service {
  const ports = (s.template.spec?.containers ?? []).flatMap((c) =>
    (c.ports ?? []).map((p) => ({
      name: p.name ?? `p${p.containerPort}`,
      port: p.containerPort,
      targetPort: p.containerPort,
      protocol: p.protocol ?? 'TCP',
    })),
  );
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: s.name,
      namespace: s.namespace,
      labels: { [label.imservice]: s.name, [label.tier]: s.tier, [label.managedBy]: 'yard' },
      ownerReferences: [ownerRef(s)],
    },
    spec: {
      selector: { [label.imservice]: s.name },
      ports:
        ports.length > 0 ? ports : [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
    },
  };
}

/** One PriorityClass per business class, and one for offline work (which never preempts). */
export function priorityClasses(): V1PriorityClass[] {
  return (Object.keys(priorityValues) as (BusinessPriority | 'offline')[]).map((p) => ({
    apiVersion: 'scheduling.k8s.io/v1',
    kind: 'PriorityClass',
    metadata: { name: priorityClassName(p), labels: { [label.managedBy]: 'yard' } },
    value: priorityValues[p],
    globalDefault: false,
    preemptionPolicy: p === 'offline' ? 'Never' : 'PreemptLowerPriority',
    description:
      p === 'offline'
        ? 'Yard offline work: runs on capacity online does not need and never preempts'
        : `Yard IM services of business class ${p} (payment > message > groupchat > moments)`,
  }));
}
