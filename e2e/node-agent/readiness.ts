// Readiness as the kubelet computes it: a container is ready when its
// readiness check passed (with the probe's thresholds); the pod is Ready when
// every container is ready AND every readiness gate's condition is True. Pure:
// probe.ts runs the checks, status.ts writes the conditions.
import type { ImageEntry } from './images.ts';
import { portOf } from './images.ts';
import type { Container, PodCondition, Probe } from './types.ts';
import type { PodPhase } from './restart.ts';

export type Check =
  | {
      readonly kind: 'http';
      readonly scheme: 'http' | 'https';
      readonly host: string;
      readonly port: number;
      readonly path: string;
      readonly headers: Readonly<Record<string, string>>;
    }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  /** No check: ready while running (the kubelet's rule without a probe). */
  | { readonly kind: 'none' }
  /** A probe the agent cannot run (an unknown named port): never ready, and why. */
  | { readonly kind: 'invalid'; readonly message: string };

export interface ProbeSpec {
  readonly check: Check;
  readonly initialDelayMs: number;
  readonly periodMs: number;
  readonly timeoutMs: number;
  readonly successThreshold: number;
  readonly failureThreshold: number;
}

/** How often to check when the probe names no period (the kubelet's 10 s is too slow for drills). */
export const defaultPeriodMs = 1_000;
/** Until the first success, check this often, so a new pod is Ready moments after it listens. */
export const startupIntervalMs = 200;

function resolvePort(c: Container, port: number | string): number | undefined {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  return c.ports?.find((p) => p.name === port)?.containerPort;
}

function probeCheck(c: Container, p: Probe, podIP: string): Check | undefined {
  const get = p.httpGet;
  const target = get ?? p.tcpSocket;
  if (!target) return undefined;
  const port = resolvePort(c, target.port);
  if (port === undefined) {
    return { kind: 'invalid', message: `readinessProbe: no port named ${String(target.port)}` };
  }
  const host = target.host || podIP;
  if (!get) return { kind: 'tcp', host, port };
  return {
    kind: 'http',
    scheme: get.scheme?.toUpperCase() === 'HTTPS' ? 'https' : 'http',
    host,
    port,
    path: get.path ?? '/',
    headers: Object.fromEntries((get.httpHeaders ?? []).map((h) => [h.name, h.value])),
  };
}

/** The container's httpGet or tcpSocket probe; else (none, exec, grpc) the image's own check. */
function checkOf(
  c: Container,
  probe: Probe | undefined,
  image: ImageEntry | undefined,
  podIP: string,
): Check {
  const own = probe ? probeCheck(c, probe, podIP) : undefined;
  if (own) return own;
  const port = image?.readinessPort ? image.readinessPort(c) : portOf(c);
  if (port === undefined) return { kind: 'none' };
  if (!image?.readinessPath) return { kind: 'tcp', host: podIP, port };
  return {
    kind: 'http',
    scheme: 'http',
    host: podIP,
    port,
    path: image.readinessPath,
    headers: {},
  };
}

const positive = (v: number | undefined, dflt: number): number =>
  v !== undefined && v > 0 ? v : dflt;

export function probeSpec(c: Container, image: ImageEntry | undefined, podIP: string): ProbeSpec {
  const p = c.readinessProbe;
  return {
    check: checkOf(c, p, image, podIP),
    initialDelayMs: Math.max(0, p?.initialDelaySeconds ?? 0) * 1000,
    periodMs: p?.periodSeconds ? p.periodSeconds * 1000 : defaultPeriodMs,
    timeoutMs: positive(p?.timeoutSeconds, 1) * 1000,
    successThreshold: positive(p?.successThreshold, 1),
    failureThreshold: positive(p?.failureThreshold, 3),
  };
}

export interface ProbeState {
  readonly ready: boolean;
  /** Consecutive results of the same kind. */
  readonly successes: number;
  readonly failures: number;
  readonly everSucceeded: boolean;
}

export const initialProbeState: ProbeState = {
  ready: false,
  successes: 0,
  failures: 0,
  everSucceeded: false,
};

/** One check's result: ready after `successThreshold` passes in a row, unready after `failureThreshold` failures. */
export function observe(s: ProbeState, ok: boolean, spec: ProbeSpec): ProbeState {
  if (ok) {
    const successes = s.successes + 1;
    return {
      ready: s.ready || successes >= spec.successThreshold,
      successes,
      failures: 0,
      everSucceeded: true,
    };
  }
  const failures = s.failures + 1;
  return {
    ready: s.ready && failures < spec.failureThreshold,
    successes: 0,
    failures,
    everSucceeded: s.everSucceeded,
  };
}

export function nextProbeDelay(s: ProbeState, spec: ProbeSpec): number {
  return s.everSucceeded ? spec.periodMs : Math.min(spec.periodMs, startupIntervalMs);
}

export interface ConditionValue {
  readonly status: 'True' | 'False';
  readonly reason?: string;
  readonly message?: string;
}

/** ContainersReady and Ready, with the kubelet's reasons and messages. */
export function readiness(
  containers: readonly { readonly name: string; readonly ready: boolean }[],
  gates: readonly string[],
  conditions: readonly PodCondition[],
  phase: PodPhase,
): { readonly containersReady: ConditionValue; readonly ready: ConditionValue } {
  if (phase === 'Succeeded' || phase === 'Failed') {
    const done: ConditionValue = { status: 'False', reason: 'PodCompleted' };
    return { containersReady: done, ready: done };
  }
  const unready = containers.filter((c) => !c.ready).map((c) => c.name);
  const containersReady: ConditionValue =
    unready.length === 0 && containers.length > 0
      ? { status: 'True' }
      : {
          status: 'False',
          reason: 'ContainersNotReady',
          message: `containers with unready status: [${unready.join(' ')}]`,
        };
  if (containersReady.status === 'False') return { containersReady, ready: containersReady };
  const closed = gates.flatMap((gate) => {
    const c = conditions.find((x) => x.type === gate);
    if (!c) return [`corresponding condition of pod readiness gate "${gate}" does not exist.`];
    return c.status === 'True'
      ? []
      : [`the status of pod readiness gate "${gate}" is not "True", but ${c.status}`];
  });
  const ready: ConditionValue =
    closed.length === 0
      ? { status: 'True' }
      : { status: 'False', reason: 'ReadinessGatesNotReady', message: closed.join(', ') };
  return { containersReady, ready };
}
