// scheduler/adapter: the thin Kubernetes side of Yard's scheduler — the only
// part that talks to the API.
//
//   mapping.ts    pods, nodes, Campus and OfflineQueue objects → the core's contract (pure)
//   asks.ts       a cycle's asks from the pods taken, each online pod's campus chosen
//   actions.ts    the core's decisions → API calls: bind, evict, nominate, report (pure)
//   reported.ts   what Yard last wrote to each pending pod, ahead of the cache
//   queue.ts      the scheduling queue: active, unschedulable, back-off; gangs whole
//   cache.ts      the Ledger kept current from informer events; binds in flight
//   binder.ts     the writes, a bounded pool in three lanes over keep-alive connections
//   metrics.ts    kube-scheduler's metric names, and Yard's grants and shares
//   publish.ts    grants and shares → Campus, OfflineQueue and OfflineJob status (SSA, rate-limited)
//   scheduler.ts  the process: informers, leader election, the loop, probes
//
// May import: ../core (through its index), runtime, crds/ and
// @kubernetes/client-node.
export * from './actions.ts';
export * from './mapping.ts';
export { Binder } from './binder.ts';
export type { BinderOptions, Lane } from './binder.ts';
export { SchedulerCache } from './cache.ts';
export type { CacheOptions, Change } from './cache.ts';
export { SchedulerMetrics } from './metrics.ts';
export * from './publish.ts';
export { SchedulingQueue } from './queue.ts';
export { YardScheduler } from './scheduler.ts';
export type { CycleReport, SchedulerOptions } from './scheduler.ts';
