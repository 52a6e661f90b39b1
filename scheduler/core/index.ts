// scheduler/core: Yard's pure decision core, `snapshot + asks → decisions`.
//
//   contract.ts    the one contract: snapshot, asks, decisions, grants, and the
//                  Offer through which level 1 lends capacity to level 2
//   level 1        ledger.ts (the books, O(1) assume/forget), master.ts (ceilings,
//                  grants, shield revocation), drf.ts + queues.ts (hierarchical
//                  weighted DRF), preemption.ts (victims, cheapest first)
//   level 2        online.ts (spread within a campus), offline.ts (gangs, packed)
//   schedule.ts    one deterministic cycle; fixtures.ts: builders for tests;
//                  bench.ts: a micro-benchmark (the only file that prints)
//
// May import: nothing but itself — no Kubernetes client, no operator/, no
// timers, no I/O. Level 2 imports only contract.ts and resources.ts.
export * from './contract.ts';
export { Ledger, defaultCeiling, effectiveCeiling } from './ledger.ts';
export { schedule, cycle } from './schedule.ts';
export { standing } from './master.ts';
export { formatResources, formatFraction } from './resources.ts';
