// What the node agent's integration tests share: echo pods, ways to ask
// whether a process answers, is Ready, or is gone, and a campus's blackhole
// set as anyone would set it (the Campus field). Only tests import this.
import type { CoreV1Api, KubeConfig, V1Pod } from '@kubernetes/client-node';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { yardKinds } from '../../crds/kinds.ts';
import type { Campus } from '../../crds/generated/types.ts';
import { mergePatch } from '../../runtime/apply.ts';
import { rfc3339 } from '../../runtime/clock.ts';
import { RestClient } from '../../runtime/rest.ts';
import { jsonLogger } from '../../runtime/logger.ts';
import type { Logger } from '../../runtime/logger.ts';
import { pod } from '../harness/builders.ts';
import { done, notYet, waitFor } from '../harness/wait.ts';
import type { WaitOptions } from '../harness/wait.ts';
import { procStartTime } from './proc.ts';

export const echoImage = 'registry.local/yard/echo:1';

/** The agent's logs on stderr when YARD_TEST_LOGS is set, as the operator's tests do. */
export const testLog: { log?: Logger } = process.env['YARD_TEST_LOGS']
  ? { log: jsonLogger({ level: 'debug' }) }
  : {};
export const echoPort = 8080;

export interface EchoPodOptions {
  readonly campus?: string;
  readonly gate?: string;
  readonly restartPolicy?: 'Always' | 'OnFailure' | 'Never';
  readonly args?: string[];
  readonly image?: string;
}

/** A pod of the echo image that the agent runs (label yard.dev/runtime=process). */
export function echoPod(name: string, o: EchoPodOptions = {}): V1Pod {
  let b = pod(name).labels({ 'yard.dev/runtime': 'process' });
  if (o.campus) b = b.campus(o.campus);
  if (o.gate) b = b.readinessGate(o.gate);
  const p = b.build();
  const spec = p.spec;
  if (!spec) throw new Error('builder made no spec');
  spec.containers = [
    {
      name: 'echo',
      image: o.image ?? echoImage,
      ports: [{ name: 'http', containerPort: echoPort }],
      ...(o.args ? { args: o.args } : {}),
    },
  ];
  spec.terminationGracePeriodSeconds = 5;
  if (o.restartPolicy) spec.restartPolicy = o.restartPolicy;
  return p;
}

export const condition = (p: V1Pod, type: string): string | undefined =>
  p.status?.conditions?.find((c) => c.type === type)?.status;
export const isReady = (p: V1Pod): boolean => condition(p, 'Ready') === 'True';

/** A short summary of a pod for "last saw" messages. */
export function summary(p: V1Pod): unknown {
  return {
    name: p.metadata?.name,
    phase: p.status?.phase,
    ip: p.status?.podIP,
    conditions: p.status?.conditions?.map((c) => `${c.type}=${c.status}`),
    containers: p.status?.containerStatuses?.map((c) => ({
      restarts: c.restartCount,
      state: c.state,
      last: c.lastState,
    })),
  };
}

export function waitForPod(
  core: CoreV1Api,
  ns: string,
  name: string,
  what: string,
  ok: (p: V1Pod) => boolean,
  opts?: WaitOptions,
): Promise<V1Pod> {
  return waitFor(
    `pod ${name}: ${what}`,
    async () => {
      const p = await core.readNamespacedPod({ name, namespace: ns });
      return ok(p) ? done(p) : notYet(summary(p));
    },
    opts,
  );
}

export interface EchoReply {
  readonly pod: string;
  readonly pid: number;
}

/** GET http://ip:port/path with a deadline; rejects on no answer. */
export async function get(ip: string, path: string, timeoutMs = 2_000): Promise<Response> {
  return fetch(`http://${ip}:${echoPort}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
}

export async function whoIs(ip: string): Promise<EchoReply> {
  return (await (await get(ip, '/')).json()) as EchoReply;
}

/** How a request to `ip` ends: answered, refused (nobody listens), or timed out (frozen). */
export async function reach(
  ip: string,
  timeoutMs = 1_000,
): Promise<'answers' | 'refused' | 'times out'> {
  try {
    await (await get(ip, '/healthz', timeoutMs)).text();
    return 'answers';
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    if (cause?.code === 'ECONNREFUSED') return 'refused';
    if ((err as Error).name === 'TimeoutError') return 'times out';
    throw err;
  }
}

export const alive = (pid: number): boolean => procStartTime(pid) !== undefined;

/** Sets a pod condition as another controller would: a strategic merge of the status. */
export async function setCondition(
  core: CoreV1Api,
  ns: string,
  name: string,
  type: string,
  status: 'True' | 'False',
): Promise<void> {
  await core.patchNamespacedPodStatus(
    {
      name,
      namespace: ns,
      body: { status: { conditions: [{ type, status, lastTransitionTime: new Date() }] } },
    },
    setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
  );
}

/**
 * Sets a campus's blackhole to lift `seconds` from now (whole seconds, as
 * metav1.Time), or with null deletes it; returns the until it set.
 */
export async function setBlackhole(
  kc: KubeConfig,
  campus: string,
  seconds: number | null,
): Promise<Date | undefined> {
  const until = seconds === null ? undefined : new Date(Date.now() + seconds * 1000);
  const blackhole = until
    ? { reason: 'node agent test', until: rfc3339(until), by: 'node-agent-test' }
    : null;
  await mergePatch<Campus>(
    new RestClient(kc),
    yardKinds.Campus,
    { name: campus },
    { spec: { blackhole } },
  );
  return until && new Date(rfc3339(until));
}
