// The names every Yard component shares: the labels, annotations, taints,
// pod conditions and finalizers through which the operator, the scheduler,
// the services and the node agent talk about the same objects. They are part
// of the API as much as the CRDs are, so they live here, once; a component
// that needs one imports it from here and never from another component.
import type { BusinessPriority } from './generated/types.ts';

/** Label keys. */
export const label = {
  /** The campus (zone) of a node; a Campus selects its nodes by it unless it says otherwise. */
  zone: 'topology.kubernetes.io/zone',
  /** The region of a node. */
  region: 'topology.kubernetes.io/region',
  /** On an IMService's Deployments, Services and pods: the IMService's name. */
  imservice: 'yard.dev/imservice',
  /** On an IMService's per-campus Deployment and its pods: the campus. */
  campus: 'yard.dev/campus',
  /** On an IMService's pods: access, logic or storage. */
  tier: 'yard.dev/tier',
  /** On online pods: payment, message, groupchat or moments. */
  businessPriority: 'yard.dev/business-priority',
  /** `online` or `offline`: which level-2 framework places the pod. */
  framework: 'yard.dev/framework',
  /** On an OfflineJob's pods: the leaf queue it runs in. */
  queue: 'yard.dev/queue',
  /** On an OfflineJob's pods: the job's name. */
  offlineJob: 'yard.dev/offline-job',
  /** `process` opts a pod into being run as real local processes by the node agent. */
  runtime: 'yard.dev/runtime',
  managedBy: 'app.kubernetes.io/managed-by',
} as const;

/** Label values that mean something to Yard. */
export const labelValue = {
  managedBy: 'yard',
  offline: 'offline',
  online: 'online',
  /** `yard.dev/runtime: process`. */
  process: 'process',
} as const;

/** Annotation keys. */
export const annotation = {
  /** On an IMService's Deployments: the hash of the pod template they run. */
  templateHash: 'yard.dev/template-hash',
  /** On offline pods: how long the pod runs (a Go duration); kwok completes it after that. */
  runDuration: 'yard.dev/run-duration',
  /** Asks the node agent for a fixed pod address inside the node's podCIDR (etcd peers need stable ones). */
  podIp: 'yard.dev/pod-ip',
} as const;

/** Taint keys. */
export const taint = {
  /** NoSchedule, on every node of a shielded campus: no new placements there. */
  shielded: 'yard.dev/shielded',
} as const;

/** Pod conditions (readiness gates). */
export const podCondition = {
  /** The readiness gate the shield controls: False sends traffic away from the pod. */
  serving: 'yard.dev/serving',
  /**
   * Set by the node agent on the pods a campus blackhole makes unreachable
   * (False) and back (True). Not a readiness gate: nothing routes away from a
   * blackholed pod, callers must notice on their own.
   */
  reachable: 'yard.dev/reachable',
} as const;

/** Finalizers. */
export const finalizer = {
  /** On a Campus: its shield is undone (taints, serving) before it goes away. */
  campusShield: 'yard.dev/campus-shield',
  /** On an OfflineJob's pods: holds the pod until its end is counted in the job's status. */
  offlineJobTracking: 'yard.dev/offline-job-tracking',
} as const;

/** Pods whose `spec.schedulerName` is this are placed by Yard's scheduler. */
export const yardSchedulerName = 'yard';

/** PriorityClass values: payment > message > groupchat > moments > any offline work. */
export const priorityValues: Readonly<Record<BusinessPriority | 'offline', number>> = {
  payment: 100_000,
  message: 90_000,
  groupchat: 80_000,
  moments: 70_000,
  offline: 1_000,
};

/** The PriorityClass of a business priority, or of offline work. */
export const priorityClassName = (p: BusinessPriority | 'offline'): string => `yard-${p}`;
