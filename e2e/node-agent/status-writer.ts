// What the agent writes to the API about its pods: the status it owns
// (status.ts) as a strategic-merge patch of the status subresource (conditions
// merge by type, so other writers' conditions survive), the reason a pod has
// no address, and the `yard.dev/reachable` condition of a blackhole
// (blackhole.ts) with an Event beside it. Each writes only when the API shows
// something else, so a steady pod costs nothing and a change costs one patch.
import { PatchStrategy } from '@kubernetes/client-node';
import { rfc3339 } from '../../runtime/clock.ts';
import type { Clock } from '../../runtime/clock.ts';
import { isNotFound } from '../../runtime/errors.ts';
import type { EventRecorder } from '../../runtime/events.ts';
import type { Logger } from '../../runtime/logger.ts';
import { keyOf } from '../../runtime/object.ts';
import type { KubeObject } from '../../runtime/object.ts';
import { kinds } from '../../runtime/resource.ts';
import type { RestClient } from '../../runtime/rest.ts';
import { reachabilityPatch } from './blackhole.ts';
import type { CampusBlock } from './blackhole.ts';
import type { PodRun } from './pod-run.ts';
import { restartPolicyOf } from './restart.ts';
import { desiredStatus, needsWrite } from './status.ts';
import type { PodObject } from './types.ts';

/** Events regard the pod as the API knows it (list items carry no kind). */
export const podRef = (p: PodObject): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: p.metadata ?? {},
});

export interface StatusWriterOptions {
  readonly rest: RestClient;
  readonly events: EventRecorder;
  readonly clock: Clock;
  readonly log: Logger;
}

export class StatusWriter {
  readonly #o: StatusWriterOptions;

  constructor(o: StatusWriterOptions) {
    this.#o = o;
  }

  /** The status the agent owns, from what its processes show. */
  async write(pod: PodObject, run: PodRun, signal: AbortSignal): Promise<void> {
    const status = desiredStatus({
      pod,
      view: run.view(),
      policy: restartPolicyOf(pod.spec?.restartPolicy),
      now: rfc3339(this.#o.clock.now()),
    });
    if (!needsWrite(pod.status, status)) return;
    await this.#patch(pod, status, signal);
  }

  /** Why a pod has no address: an Event and PodReadyToStartContainers=False. */
  async noAddress(pod: PodObject, reason: string, signal: AbortSignal): Promise<void> {
    this.#o.log.warn('no address for pod', { pod: keyOf(pod), reason });
    this.#o.events.event(podRef(pod), {
      type: 'Warning',
      reason: 'FailedCreatePodSandBox',
      action: 'Start',
      note: reason,
    });
    const condition = {
      type: 'PodReadyToStartContainers',
      status: 'False',
      reason: 'FailedCreatePodSandBox',
      message: reason,
      lastTransitionTime: rfc3339(this.#o.clock.now()),
    };
    const old = pod.status?.conditions?.find((c) => c.type === condition.type);
    if (old?.message === reason) return;
    await this.#patch(pod, { conditions: [condition] }, signal);
  }

  /**
   * `yard.dev/reachable` False while a blackhole holds the pod's campus, True
   * once it lifted (only on pods that showed False), with an Event each time
   * it changes in the API — so a restarted agent, which finds the condition
   * already there, repeats neither.
   */
  async reachability(
    pod: PodObject,
    block: CampusBlock | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    const condition = reachabilityPatch(
      block,
      pod.status?.conditions,
      new Date(this.#o.clock.now()),
    );
    if (!condition) return;
    await this.#patch(pod, { conditions: [condition] }, signal);
    this.#o.events.event(podRef(pod), {
      type: block ? 'Warning' : 'Normal',
      reason: block ? 'Blackholed' : 'BlackholeLifted',
      action: block ? 'Blackhole' : 'Lift',
      note: block
        ? `Unreachable: ${condition.message ?? ''}`
        : 'Reachable again: the blackhole of its campus lifted',
    });
  }

  async #patch(pod: PodObject, status: unknown, signal: AbortSignal): Promise<void> {
    try {
      await this.#o.rest.patch(
        kinds.Pod,
        { namespace: pod.metadata?.namespace, name: pod.metadata?.name ?? '' },
        { status },
        PatchStrategy.StrategicMergePatch,
        { subresource: 'status', signal },
      );
    } catch (err) {
      if (!isNotFound(err)) throw err; // gone meanwhile: nothing to report
    }
  }
}
