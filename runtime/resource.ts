// Which API resource an informer, apply or patch talks to. Given explicitly
// (no discovery round trip): the runtime serves a known set of kinds.

export interface ResourceType {
  /** API group; '' for the core group. */
  readonly group: string;
  readonly version: string;
  /** Plural resource name as in the URL, e.g. `configmaps`. */
  readonly resource: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

export function apiVersionOf(t: ResourceType): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

/** `configmaps.v1` or `deployments.v1.apps`, as kubectl spells a resource. */
export function resourceId(t: ResourceType): string {
  return t.group ? `${t.resource}.${t.version}.${t.group}` : `${t.resource}.${t.version}`;
}

/** The group of an `apiVersion` such as `apps/v1` (`''` for `v1`). */
export function groupOf(apiVersion: string): string {
  const i = apiVersion.indexOf('/');
  return i < 0 ? '' : apiVersion.slice(0, i);
}

export interface PathParts {
  readonly namespace?: string | undefined;
  readonly name?: string | undefined;
  readonly subresource?: string | undefined;
}

/**
 * The URL path of a collection or an object. A namespace given for a
 * cluster-scoped type is ignored; none given for a namespaced type means
 * "all namespaces" (lists and watches only).
 */
export function resourcePath(t: ResourceType, parts: PathParts = {}): string {
  const segs = [t.group ? `/apis/${t.group}/${t.version}` : `/api/${t.version}`];
  if (t.namespaced && parts.namespace) segs.push('namespaces', encodeURIComponent(parts.namespace));
  segs.push(t.resource);
  if (parts.name !== undefined) segs.push(encodeURIComponent(parts.name));
  if (parts.subresource !== undefined) {
    if (parts.name === undefined) throw new TypeError('a subresource needs an object name');
    segs.push(parts.subresource);
  }
  return segs.join('/');
}

const t = (
  group: string,
  version: string,
  resource: string,
  kind: string,
  namespaced: boolean,
): ResourceType => ({ group, version, resource, kind, namespaced });

/** Built-in kinds the operator works with. Yard's own kinds come from crds/. */
export const kinds = {
  ConfigMap: t('', 'v1', 'configmaps', 'ConfigMap', true),
  Secret: t('', 'v1', 'secrets', 'Secret', true),
  Pod: t('', 'v1', 'pods', 'Pod', true),
  Service: t('', 'v1', 'services', 'Service', true),
  Node: t('', 'v1', 'nodes', 'Node', false),
  Namespace: t('', 'v1', 'namespaces', 'Namespace', false),
  CoreEvent: t('', 'v1', 'events', 'Event', true),
  Event: t('events.k8s.io', 'v1', 'events', 'Event', true),
  Deployment: t('apps', 'v1', 'deployments', 'Deployment', true),
  Lease: t('coordination.k8s.io', 'v1', 'leases', 'Lease', true),
  PriorityClass: t('scheduling.k8s.io', 'v1', 'priorityclasses', 'PriorityClass', false),
  CustomResourceDefinition: t(
    'apiextensions.k8s.io',
    'v1',
    'customresourcedefinitions',
    'CustomResourceDefinition',
    false,
  ),
} as const satisfies Record<string, ResourceType>;
