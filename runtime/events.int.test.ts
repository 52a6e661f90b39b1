// Events as the API server stores them: one Event per distinct occurrence,
// repeats folded into its series.
import { expect } from 'vitest';
import { it } from '../e2e/harness/kube.ts';
import { EventRecorder, restEventSink } from './events.ts';
import type { KubeEvent } from './events.ts';
import type { KubeObject } from './object.ts';
import { kinds } from './resource.ts';
import { RestClient } from './rest.ts';

it('folds a hot loop of one event into a single Event with a series count', async ({
  kube,
  ns,
}) => {
  const rest = new RestClient(kube.kc);
  const cm = await rest.create<KubeObject>(kinds.ConfigMap, {
    metadata: { name: 'subject', namespace: ns },
  });
  const recorder = new EventRecorder({
    sink: restEventSink(rest),
    reportingController: 'yard.dev/runtime-test',
    reportingInstance: 'test-0',
  });
  for (let i = 0; i < 50; i++) {
    recorder.event(cm, {
      type: 'Warning',
      reason: 'SyncFailed',
      action: 'Sync',
      note: 'the same failure',
    });
  }
  recorder.event(cm, { type: 'Normal', reason: 'Synced', action: 'Sync', note: 'recovered' });
  await recorder.close(); // writes the pending series count

  const { items } = await rest.list<KubeEvent>(kinds.Event, { namespace: ns });
  expect(items).toHaveLength(2);
  const failed = items.find((e) => e.reason === 'SyncFailed');
  expect(failed).toMatchObject({
    type: 'Warning',
    action: 'Sync',
    note: 'the same failure',
    reportingController: 'yard.dev/runtime-test',
    reportingInstance: 'test-0',
    regarding: { kind: 'ConfigMap', name: 'subject', namespace: ns, uid: cm.metadata?.uid },
    series: { count: 50 },
  });
  // the same objects, seen through core/v1 (what `kubectl describe` reads)
  const core = await kube.core.listNamespacedEvent({ namespace: ns });
  expect(core.items.map((e) => e.reason).sort()).toEqual(['SyncFailed', 'Synced']);
});
