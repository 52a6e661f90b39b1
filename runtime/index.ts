// runtime: the controller runtime every Yard controller runs on —
// what controller-runtime gives Go operators and @kubernetes/client-node does
// not: shared informers with a cache (informer.ts, informer-factory.ts,
// cache.ts), a work queue (workqueue.ts, backoff.ts), controllers with event
// filters (controller.ts, predicates.ts), leader election on a Lease
// (leader-election.ts), finalizers and owner references (finalizers.ts,
// owner.ts), server-side apply and status writes (apply.ts), conditions
// (conditions.ts), Kubernetes Events (events.ts), Prometheus metrics under
// controller-runtime's names (metrics.ts), /healthz /readyz /metrics
// (probe-server.ts), JSON logs (logger.ts), and the manager that runs it all
// (manager.ts). Beneath them: a REST client for any kind (rest.ts,
// resource.ts, object.ts), an injectable clock (clock.ts), API errors
// (errors.ts) and quantities (quantity.ts).
// e2e/harness holds the fault injectors of its integration tests.
//
// May import only @kubernetes/client-node, prom-client and node built-ins —
// never crds/, scheduler/, services/ or e2e/ (they import us).
export {
  apply,
  appliedHash,
  appliedHashAnnotation,
  applyIfChanged,
  applyStatus,
  mergePatch,
  patchStatus,
  upToDate,
} from './apply.ts';
export type { ApplyOptions, PatchOptions } from './apply.ts';
export { backoffDelay, KeyedBackoff, reconcileBackoff, watchBackoff } from './backoff.ts';
export type { BackoffPolicy } from './backoff.ts';
export { namespaceIndex, Store } from './cache.ts';
export type { IndexFunc, ReplaceResult, StoreReader } from './cache.ts';
export { flush, ManualClock, microTime, realClock, rfc3339, sleep } from './clock.ts';
export type { Cancel, Clock } from './clock.ts';
export {
  conditionStatuses,
  findCondition,
  invalidCondition,
  isFalse,
  isTrue,
  removeCondition,
  setCondition,
} from './conditions.ts';
export type { Condition, ConditionStatus, ConditionUpdate } from './conditions.ts';
export { Controller } from './controller.ts';
export type {
  ControllerOptions,
  KeyMapper,
  ReconcileRequest,
  ReconcileResult,
  Reconciler,
} from './controller.ts';
export {
  ApiError,
  apiMessage,
  describeError,
  isAlreadyExists,
  isConflict,
  isExpectedConflict,
  isForbidden,
  isGone,
  isNotFound,
  isTransient,
  retryTransient,
  statusCode,
} from './errors.ts';
export { EventRecorder, eventTypes, restEventSink } from './events.ts';
export type {
  EventInput,
  EventRecorderOptions,
  EventSink,
  EventType,
  KubeEvent,
} from './events.ts';
export { addFinalizer, hasFinalizer, isDeleting, removeFinalizer } from './finalizers.ts';
export { InformerFactory } from './informer-factory.ts';
export type { InformerFactoryOptions, InformerRequest } from './informer-factory.ts';
export { Informer } from './informer.ts';
export type { EventHandler, InformerOptions, InformerScope, InformerStats } from './informer.ts';
export { decide, LeaderElector, nextLeaseSpec } from './leader-election.ts';
export type {
  LeaderElectionConfig,
  LeaderElectorOptions,
  Lease,
  LeaseSpec,
} from './leader-election.ts';
export { formatDuration, parseDuration } from './duration.ts';
export { isLogLevel, jsonLogger, logLevels, nullLogger } from './logger.ts';
export type { LogFields, Logger, LogLevel } from './logger.ts';
export { LeaderElectionLostError, Manager, watch } from './manager.ts';
export type {
  ControllerSpec,
  ForSpec,
  ManagerOptions,
  OwnsSpec,
  Watch,
  WatchesSpec,
} from './manager.ts';
export {
  allows,
  informerRules,
  mergeRules,
  rbacVerbs,
  rule,
  runtimeRules,
  validateRules,
} from './rbac.ts';
export type { PolicyRule, RbacVerb } from './rbac.ts';
export {
  collectProcessMetrics,
  dropNonConformingMetrics,
  nonConformingDefaultMetrics,
  reconcileResults,
  RuntimeMetrics,
} from './metrics.ts';
export type {
  ControllerMetrics,
  InformerMetrics,
  LeaderMetrics,
  RestClientMetrics,
} from './metrics.ts';
export {
  canonicalJson,
  contains,
  deepFreeze,
  jsonEqual,
  keyOf,
  objectKey,
  splitKey,
} from './object.ts';
export type { KubeObject, ObjectMeta, OwnerReference } from './object.ts';
export {
  AlreadyOwnedError,
  controllerOf,
  isControlledBy,
  ownerKey,
  ownerReference,
  withControllerReference,
} from './owner.ts';
export {
  allOf,
  annotationsChanged,
  anyOf,
  changed,
  defaultOwnedPredicate,
  defaultPrimaryPredicate,
  deletionTimestampChanged,
  finalizersChanged,
  generationChanged,
  labelsChanged,
  resourceVersionChanged,
} from './predicates.ts';
export type { Predicate } from './predicates.ts';
export { serveProbes } from './probe-server.ts';
export type { Check, ProbeServer } from './probe-server.ts';
export { formatBytes, formatCpu, milliCpu, parseQuantity } from './quantity.ts';
export { apiVersionOf, groupOf, kinds, resourceId, resourcePath } from './resource.ts';
export type { ResourceType } from './resource.ts';
export { RequestTimeoutError, RestClient } from './rest.ts';
export type { ListOptions, Method, ObjectList, RequestOptions } from './rest.ts';
export { WorkQueue } from './workqueue.ts';
export type { WorkQueueMetrics, WorkQueueOptions } from './workqueue.ts';
export {
  flagBool,
  hookShutdownSignals,
  leaderElectionOf,
  durationFlag,
  flagsHelp,
  loadKubeConfig,
  parseCommandLine,
  processOptions,
  readProcessConfig,
  runProcess,
  runToExit,
  UsageError,
  wantsHelp,
  wholeFlag,
} from './process.ts';
export type { CommandLine, FlagSpec, FlagSpecs, FlagValues, ProcessConfig } from './process.ts';
