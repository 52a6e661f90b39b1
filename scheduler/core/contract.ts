// The one contract of the scheduler. Core and adapter meet here (the adapter
// builds a Snapshot and Asks and carries out Decisions), and so do level 1 and
// level 2 (the resource master lends the frameworks an Offer). Nothing here
// knows Kubernetes: names are the adapter's keys (say `namespace/name`), and
// quantities are plain numbers.

/** A resource vector: milli-CPU, memory in bytes, and pod slots. */
export interface Resources {
  readonly cpu: number;
  readonly memory: number;
  readonly pods: number;
}

export const frameworks = ['online', 'offline'] as const;
export type Framework = (typeof frameworks)[number];

/** Business priorities, highest first (WeChat's New Year's Eve order). */
export const businessPriorities = ['payment', 'message', 'groupchat', 'moments'] as const;
export type BusinessPriority = (typeof businessPriorities)[number];

/** One zone. */
export interface Campus {
  readonly name: string;
  /**
   * The fraction of the campus's allocatable online may use, 0..1. Default
   * (N−1)/N with N campuses, so that the others can absorb it when it is lost.
   */
  readonly onlineCeiling?: number;
  /** Blocked (a drill or a manual shield): no new pods, its online load moves. */
  readonly shielded: boolean;
}

export interface NodeInfo {
  readonly name: string;
  readonly campus: string;
  readonly allocatable: Resources;
  /** False when cordoned or not ready. */
  readonly schedulable: boolean;
  /** True when a NoSchedule taint Yard's pods do not tolerate is on the node. */
  readonly tainted: boolean;
}

/** A hierarchical offline queue (YARN / YuniKorn style). */
export interface OfflineQueue {
  readonly name: string;
  /** The parent queue's name; a queue without one hangs under the root. */
  readonly parent?: string;
  /** Relative weight among its siblings in weighted DRF; default 1. */
  readonly weight?: number;
  /** Capacity this queue gets before any sibling above its own guarantee. */
  readonly guaranteed?: Partial<Resources>;
  /** Capacity this queue (with its children) never exceeds. */
  readonly max?: Partial<Resources>;
}

interface PlacedBase {
  readonly name: string;
  readonly node: string;
  readonly requests: Resources;
  /** Being deleted (evicted or scaled down): still holds its node, never a victim. */
  readonly terminating?: boolean;
}

/** A pod of an IMService. */
export interface OnlinePod extends PlacedBase {
  readonly framework: 'online';
  readonly service: string;
  readonly businessPriority: BusinessPriority;
}

/** A pod of an OfflineJob. */
export interface OfflinePod extends PlacedBase {
  readonly framework: 'offline';
  readonly job: string;
  readonly queue: string;
  /** Priority within its queue; higher runs first and is preempted last. */
  readonly priority: number;
  /** How far the pod has got, 0..1: the work a preemption throws away. */
  readonly progress: number;
  /** The job's gang minimum; 0 or 1 when the job is no gang. */
  readonly gangMin: number;
}

/** A pod bound to a node, or assumed bound while its binding is in flight. */
export type PlacedPod = OnlinePod | OfflinePod;

/** A pending online pod. It carries its campus (the campus Deployment pins it). */
export interface OnlineAsk {
  readonly kind: 'online';
  readonly pod: string;
  readonly service: string;
  readonly campus: string;
  readonly businessPriority: BusinessPriority;
  readonly requests: Resources;
  /** Creation order (a timestamp or a sequence); earlier goes first. */
  readonly created: number;
  /** The node an earlier preemption cleared for this pod. */
  readonly nominatedNode?: string;
}

export interface PendingPod {
  readonly name: string;
  readonly requests: Resources;
}

/** An OfflineJob's pending pods; `minMember` of them (less those running) bind together or not at all. */
export interface GangAsk {
  readonly kind: 'gang';
  readonly job: string;
  readonly queue: string;
  readonly priority: number;
  /** The gang minimum; 0 or 1 for a job whose pods may run one by one. */
  readonly minMember: number;
  readonly pods: readonly PendingPod[];
  readonly created: number;
  /** Only this campus, when the job asks for one. */
  readonly campus?: string;
}

export type Ask = OnlineAsk | GangAsk;

/** What the adapter sees of the cluster at the start of a cycle. */
export interface Snapshot {
  readonly campuses: readonly Campus[];
  /** Nodes whose campus is not listed are not Yard's and are ignored. */
  readonly nodes: readonly NodeInfo[];
  readonly pods: readonly PlacedPod[];
  readonly queues: readonly OfflineQueue[];
}

export interface Policy {
  /**
   * When a campus is at its online ceiling, an online pod may preempt online
   * pods of strictly lower business priority (WeChat switches Moments off
   * before payments fail).
   */
  readonly preemptLowerOnline: boolean;
  /**
   * While a campus is shielded, hold room in the others for the online load
   * it still carries, revoking offline work there at once.
   */
  readonly reserveForShielded: boolean;
}

export const defaultPolicy: Policy = { preemptLowerOnline: true, reserveForShielded: true };

/**
 * A decision for the adapter. Every "no" carries a sentence for a person: it
 * becomes the pod's Event and the job's condition.
 */
export type Decision =
  | { readonly kind: 'bind'; readonly pod: string; readonly node: string }
  /** Evict `victims` so that the online pod `for` fits on `node` (its nominated node). */
  | {
      readonly kind: 'preempt';
      readonly for: string;
      readonly node: string;
      readonly victims: readonly string[];
      readonly reason: string;
    }
  /** Evict offline `victims` in `campus` because online needs the capacity back now. */
  | {
      readonly kind: 'revoke';
      readonly campus: string;
      readonly victims: readonly string[];
      readonly reason: string;
    }
  /** Not now; try again when the cluster changes. `ask` is the online pod or the job. */
  | {
      readonly kind: 'unschedulable';
      readonly ask: string;
      readonly pods: readonly string[];
      readonly reason: string;
      /** Set when room is held for the ask while its victims leave. */
      readonly nominatedNode?: string;
    }
  /** Can never fit as the world is configured (too big, unknown campus or queue). */
  | {
      readonly kind: 'never';
      readonly ask: string;
      readonly pods: readonly string[];
      readonly reason: string;
    };

export type DecisionKind = Decision['kind'];

/** One campus as level 1 grants it, for metrics and Campus status. */
export interface CampusGrant {
  readonly campus: string;
  readonly shielded: boolean;
  /** The online ceiling in force, as a fraction (raised while another campus is shielded). */
  readonly ceiling: number;
  /** The ceiling as configured (or defaulted), before any shield raises it. */
  readonly configuredCeiling: number;
  /**
   * The ceiling this campus would be raised to if one more campus were lost:
   * what it may give online then (its ceiling in force, when it is shielded itself).
   */
  readonly failoverCeiling: number;
  readonly allocatable: Resources;
  readonly online: { readonly cap: Resources; readonly grant: Resources; readonly used: Resources };
  readonly offline: { readonly grant: Resources; readonly used: Resources };
  /** Room held for the online load of shielded campuses. */
  readonly reserve: Resources;
}

/** One offline queue's standing in DRF, for metrics and OfflineQueue status. */
export interface QueueGrant {
  readonly queue: string;
  readonly parent?: string;
  readonly weight: number;
  readonly used: Resources;
  /** max(cpu, memory) of `used` over the offline pool. */
  readonly dominantShare: number;
  /** The dominant share its weight entitles it to among its siblings, within guaranteed and max. */
  readonly fairFraction: number;
  /** That share of the offline pool, raised to the guarantee and capped at the max, per resource. */
  readonly fairShare: Resources;
}

/** One OfflineJob's admitted share: what its running pods (binds in flight included) hold. */
export interface JobGrant {
  readonly job: string;
  readonly queue: string;
  readonly used: Resources;
  /** max(cpu, memory) of `used` over the offline pool. */
  readonly dominantShare: number;
  /** Its part of its queue's use, in the queue's dominant resource, 0..1 (0 when the queue runs nothing). */
  readonly queueShare: number;
}

export interface Grants {
  readonly campuses: readonly CampusGrant[];
  readonly queues: readonly QueueGrant[];
  /** Jobs with pods on the books. */
  readonly jobs: readonly JobGrant[];
  /** The offline pool DRF divides: what offline may use in unshielded campuses. */
  readonly offlinePool: Resources;
}

export interface ScheduleResult {
  readonly decisions: readonly Decision[];
  readonly grants: Grants;
}

/**
 * What level 1 lends a framework: a read view of the nodes with what it may
 * still use, and assume/forget. Nodes are small integers (name order) so that
 * the hot loops index arrays instead of hashing names.
 */
export interface Offer {
  /** Campuses taking new pods (not shielded), by name. */
  openCampuses(): readonly string[];
  /** The campus's nodes, by name (open or not). */
  campusNodes(campus: string): readonly number[];
  nodeName(node: number): string;
  /** The node takes new pods and `req` fits its free capacity. */
  fits(node: number, req: Resources): boolean;
  /** Mean of CPU and memory allocated, 0..1, if `req` were added: the bin-packing score. */
  allocatedAfter(node: number, req: Resources): number;
  /** Replicas of an online service on the node. */
  replicas(service: string, node: number): number;
  /** `req` stays within the framework's grant in the campus. */
  withinGrant(campus: string, framework: Framework, req: Resources): boolean;
  /** What the framework may still add in the campus under its grant. */
  headroom(campus: string, framework: Framework): Resources;
  assume(pod: PlacedPod): void;
  forget(pod: string): void;
}
