// A container's environment as the kubelet builds it: envFrom first, then env
// in order (later wins), `$(VAR)` expanded against what came before, and
// valueFrom resolved — fieldRef (the downward API), resourceFieldRef,
// configMapKeyRef and secretKeyRef. Pure: the adapter fetches the ConfigMaps
// and Secrets `references` names and passes their data in.
import { parseQuantity } from '../../runtime/quantity.ts';
import type { Container, EnvFromSource, EnvVarSource, KeyRef, PodObject } from './types.ts';

export interface EnvSources {
  /** ConfigMap name → data; a name absent here does not exist. */
  readonly configMaps: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** Secret name → decoded data; a name absent here does not exist. */
  readonly secrets: ReadonlyMap<string, Readonly<Record<string, string>>>;
}

export interface EnvContext {
  readonly pod: PodObject;
  readonly podIP: string;
  readonly hostIP: string;
  /** The node's allocatable: the value of a resourceFieldRef whose limit is not set. */
  readonly nodeAllocatable?: Readonly<Record<string, string | number>>;
}

export type EnvResult =
  | { readonly ok: true; readonly env: Readonly<Record<string, string>> }
  | { readonly ok: false; readonly reason: 'CreateContainerConfigError'; readonly message: string };

/** The ConfigMaps and Secrets a container's environment reads. */
export function references(c: Container): { configMaps: string[]; secrets: string[] } {
  const configMaps = new Set<string>();
  const secrets = new Set<string>();
  for (const f of c.envFrom ?? []) {
    if (f.configMapRef?.name) configMaps.add(f.configMapRef.name);
    if (f.secretRef?.name) secrets.add(f.secretRef.name);
  }
  for (const e of c.env ?? []) {
    if (e.valueFrom?.configMapKeyRef?.name) configMaps.add(e.valueFrom.configMapKeyRef.name);
    if (e.valueFrom?.secretKeyRef?.name) secrets.add(e.valueFrom.secretKeyRef.name);
  }
  return { configMaps: [...configMaps], secrets: [...secrets] };
}

/**
 * Kubernetes' `$(VAR)` expansion: `$(NAME)` becomes the value of NAME when it
 * is defined, and stays as written when not; `$$` is a literal `$`.
 */
export function expand(input: string, vars: Readonly<Record<string, string>>): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const ch = input[i];
    if (ch !== '$' || i + 1 >= input.length) {
      out += ch;
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close < 0) {
        out += input.slice(i);
        break;
      }
      const name = input.slice(i + 2, close);
      out += Object.hasOwn(vars, name) ? vars[name] : `$(${name})`;
      i = close;
    } else {
      out += ch;
    }
  }
  return out;
}

const validName = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

type Lookup = { ok: true; value: string | undefined } | { ok: false; message: string };

function keyLookup(
  kind: 'ConfigMap' | 'Secret',
  ref: KeyRef,
  objects: EnvSources['configMaps'],
  ns: string,
): Lookup {
  const data = ref.name ? objects.get(ref.name) : undefined;
  const value = data?.[ref.key];
  if (value !== undefined) return { ok: true, value };
  if (ref.optional) return { ok: true, value: undefined };
  return {
    ok: false,
    message: data
      ? `couldn't find key ${ref.key} in ${kind} ${ns}/${ref.name ?? ''}`
      : `${kind.toLowerCase()} "${ref.name ?? ''}" not found`,
  };
}

type FieldGetter = (ctx: EnvContext) => string | undefined;

const downwardFields: Readonly<Record<string, FieldGetter>> = {
  'metadata.name': (x) => x.pod.metadata?.name,
  'metadata.namespace': (x) => x.pod.metadata?.namespace,
  'metadata.uid': (x) => x.pod.metadata?.uid,
  'spec.nodeName': (x) => x.pod.spec?.nodeName,
  'spec.serviceAccountName': (x) => x.pod.spec?.serviceAccountName ?? 'default',
  'status.podIP': (x) => x.podIP,
  'status.podIPs': (x) => x.podIP,
  'status.hostIP': (x) => x.hostIP,
  'status.hostIPs': (x) => x.hostIP,
};

/** The downward API's fields, as the kubelet offers them to env; undefined for an unknown path. */
export function fieldValue(path: string, ctx: EnvContext): string | undefined {
  const sub = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (sub) {
    const map = sub[1] === 'labels' ? ctx.pod.metadata?.labels : ctx.pod.metadata?.annotations;
    return map?.[sub[2] ?? ''] ?? '';
  }
  const get = Object.hasOwn(downwardFields, path) ? downwardFields[path] : undefined;
  return get ? (get(ctx) ?? '') : undefined;
}

/** The request or limit a resourceFieldRef names; an unset limit is the node's allocatable. */
function resourceAmount(
  which: 'limits' | 'requests',
  resource: string,
  container: Container | undefined,
  ctx: EnvContext,
): string | number {
  const own = container?.resources?.[which]?.[resource];
  if (own !== undefined) return own;
  return (which === 'limits' ? ctx.nodeAllocatable?.[resource] : undefined) ?? 0;
}

/** limits.cpu and friends, in units of the divisor, rounded up as the kubelet does. */
export function resourceValue(
  ref: NonNullable<EnvVarSource['resourceFieldRef']>,
  c: Container,
  ctx: EnvContext,
): string | undefined {
  const m = /^(limits|requests)\.(.+)$/.exec(ref.resource);
  if (!m?.[1] || !m[2]) return undefined;
  const container = ref.containerName
    ? ctx.pod.spec?.containers?.find((x) => x.name === ref.containerName)
    : c;
  const raw = resourceAmount(m[1] as 'limits' | 'requests', m[2], container, ctx);
  const divisor = parseQuantity(ref.divisor ?? 1);
  if (!(divisor > 0)) return undefined;
  return String(Math.ceil(parseQuantity(raw) / divisor - 1e-9));
}

function valueFrom(src: EnvVarSource, c: Container, ctx: EnvContext, s: EnvSources): Lookup {
  const ns = ctx.pod.metadata?.namespace ?? '';
  if (src.fieldRef) {
    const v = fieldValue(src.fieldRef.fieldPath, ctx);
    return v === undefined
      ? { ok: false, message: `unsupported fieldRef ${src.fieldRef.fieldPath}` }
      : { ok: true, value: v };
  }
  if (src.resourceFieldRef) {
    try {
      const v = resourceValue(src.resourceFieldRef, c, ctx);
      if (v !== undefined) return { ok: true, value: v };
    } catch {
      // an unparsable quantity: reported below
    }
    return { ok: false, message: `unsupported resourceFieldRef ${src.resourceFieldRef.resource}` };
  }
  if (src.configMapKeyRef) return keyLookup('ConfigMap', src.configMapKeyRef, s.configMaps, ns);
  if (src.secretKeyRef) return keyLookup('Secret', src.secretKeyRef, s.secrets, ns);
  return { ok: false, message: 'valueFrom names no source' };
}

/** The data one envFrom entry names; undefined when it does not exist. */
function sourceData(f: EnvFromSource, s: EnvSources): Readonly<Record<string, string>> | undefined {
  if (f.configMapRef?.name) return s.configMaps.get(f.configMapRef.name);
  if (f.secretRef?.name) return s.secrets.get(f.secretRef.name);
  return undefined;
}

/** Copies envFrom's data into `env`; says what is missing, if anything. */
function fromSources(c: Container, s: EnvSources, env: Record<string, string>): string | undefined {
  for (const f of c.envFrom ?? []) {
    const data = sourceData(f, s);
    if (!data) {
      const ref = f.configMapRef ?? f.secretRef;
      if (ref?.optional) continue;
      return `${f.configMapRef ? 'configmap' : 'secret'} "${ref?.name ?? ''}" not found`;
    }
    for (const [k, v] of Object.entries(data)) {
      const name = `${f.prefix ?? ''}${k}`;
      if (validName.test(name)) env[name] = v; // the kubelet skips invalid names too
    }
  }
  return undefined;
}

/**
 * The container's environment: `base` (what the agent provides, e.g.
 * YARD_LISTEN), overridden by envFrom, then by env.
 */
export function resolveEnv(
  c: Container,
  ctx: EnvContext,
  sources: EnvSources,
  base: Readonly<Record<string, string>> = {},
): EnvResult {
  const env: Record<string, string> = { ...base };
  const fail = (message: string): EnvResult => ({
    ok: false,
    reason: 'CreateContainerConfigError',
    message: `container ${c.name}: ${message}`,
  });
  const sourceError = fromSources(c, sources, env);
  if (sourceError) return fail(sourceError);
  for (const e of c.env ?? []) {
    if (e.valueFrom) {
      const v = valueFrom(e.valueFrom, c, ctx, sources);
      if (!v.ok) return fail(v.message);
      if (v.value !== undefined) env[e.name] = v.value;
    } else {
      env[e.name] = expand(e.value ?? '', env);
    }
  }
  return { ok: true, env };
}
