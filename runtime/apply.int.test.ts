// Server-side apply, status writes, finalizers and the status-write filter,
// on a small custom resource with a status subresource (a test CRD of our
// own, so the test does not depend on the shape of Yard's CRDs).
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { it, kubeConfig } from '../e2e/harness/kube.ts';
import { done, notYet, waitFor } from '../e2e/harness/wait.ts';
import { apply, applyStatus, mergePatch, patchStatus } from './apply.ts';
import { setCondition } from './conditions.ts';
import type { Condition } from './conditions.ts';
import { isConflict, isNotFound, statusCode } from './errors.ts';
import { addFinalizer, hasFinalizer, isDeleting, removeFinalizer } from './finalizers.ts';
import type { KubeObject } from './object.ts';
import { defaultPrimaryPredicate, passes } from './predicates.ts';
import { kinds } from './resource.ts';
import type { ResourceType } from './resource.ts';
import { RestClient } from './rest.ts';

const Widget: ResourceType = {
  group: 'runtime-test.yard.dev',
  version: 'v1',
  resource: 'widgets',
  kind: 'Widget',
  namespaced: true,
};

type Widget = KubeObject & {
  readonly spec?: { readonly size?: number; readonly color?: string };
  readonly status?: { readonly conditions?: readonly Condition[]; readonly note?: string };
};

const crd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.runtime-test.yard.dev' },
  spec: {
    group: 'runtime-test.yard.dev',
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                properties: { size: { type: 'integer' }, color: { type: 'string' } },
              },
              status: {
                type: 'object',
                properties: {
                  note: { type: 'string' },
                  conditions: {
                    type: 'array',
                    'x-kubernetes-list-type': 'map',
                    'x-kubernetes-list-map-keys': ['type'],
                    items: {
                      type: 'object',
                      required: ['type', 'status', 'reason', 'message', 'lastTransitionTime'],
                      properties: {
                        type: { type: 'string' },
                        status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
                        reason: { type: 'string' },
                        message: { type: 'string' },
                        observedGeneration: { type: 'integer' },
                        lastTransitionTime: { type: 'string', format: 'date-time' },
                      },
                    },
                  },
                },
              },
            },
          },
        },
      },
    ],
  },
};

beforeAll(async () => {
  const rest = new RestClient(kubeConfig());
  try {
    await rest.create(kinds.CustomResourceDefinition, crd);
  } catch (err) {
    if (!isConflict(err)) throw err;
  }
  // established, and its storage ready to take objects
  await waitFor('the Widget CRD', async () => {
    try {
      await rest.list(Widget, { limit: 1 });
      return done(true);
    } catch (err) {
      return notYet(err);
    }
  });
});

// leaves an existing cluster as it found it (objects go with their namespaces)
afterAll(async () => {
  await new RestClient(kubeConfig())
    .delete(kinds.CustomResourceDefinition, undefined, crd.metadata.name)
    .catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
    });
});

const widget = (ns: string, spec: NonNullable<Widget['spec']>): Widget => ({
  apiVersion: 'runtime-test.yard.dev/v1',
  kind: 'Widget',
  metadata: { name: 'w', namespace: ns },
  spec,
});

describe('server-side apply', () => {
  it('creates, and changes nothing (not even the resourceVersion) when applied again', async ({
    kube,
    ns,
  }) => {
    const rest = new RestClient(kube.kc);
    const first = await apply(rest, Widget, widget(ns, { size: 3 }), { fieldManager: 'yard-test' });
    const again = await apply(rest, Widget, widget(ns, { size: 3 }), { fieldManager: 'yard-test' });
    expect(again.metadata?.resourceVersion).toBe(first.metadata?.resourceVersion);
    const managed = (again.metadata as { managedFields?: { manager: string; operation: string }[] })
      .managedFields;
    expect(managed).toContainEqual(
      expect.objectContaining({ manager: 'yard-test', operation: 'Apply' }),
    );
  });

  it('takes over fields of another manager with force, and reports the conflict without it', async ({
    kube,
    ns,
  }) => {
    const rest = new RestClient(kube.kc);
    await apply(rest, Widget, widget(ns, { size: 5 }), { fieldManager: 'someone-else' });
    const err: unknown = await apply(rest, Widget, widget(ns, { size: 3 }), {
      fieldManager: 'yard-test',
      force: false,
    }).catch((e: unknown) => e);
    expect(statusCode(err)).toBe(409);
    const forced = await apply(rest, Widget, widget(ns, { size: 3 }), {
      fieldManager: 'yard-test',
    });
    expect(forced.spec?.size).toBe(3);
  });

  it('applies status through the subresource: the generation stays, so the primary filter drops it', async ({
    kube,
    ns,
  }) => {
    const rest = new RestClient(kube.kc);
    const before = await apply(rest, Widget, widget(ns, { size: 3 }), {
      fieldManager: 'yard-test',
    });
    const conditions = setCondition(
      undefined,
      {
        type: 'Ready',
        status: 'True',
        reason: 'Built',
        message: 'all parts in place',
        observedGeneration: before.metadata?.generation ?? 0,
      },
      new Date(),
    );
    const after = await applyStatus(
      rest,
      Widget,
      { ...before, status: { conditions } },
      { fieldManager: 'yard-test' },
    );
    expect(after.status?.conditions).toEqual(conditions);
    expect(after.metadata?.generation).toBe(before.metadata?.generation);
    expect(after.metadata?.resourceVersion).not.toBe(before.metadata?.resourceVersion);
    // the event this write causes would not wake the controller
    expect(passes([defaultPrimaryPredicate], 'update', after, before)).toBe(false);

    // applying status never sent the spec: it is unchanged; a spec change moves the generation
    const changed = await apply(rest, Widget, widget(ns, { size: 4 }), {
      fieldManager: 'yard-test',
    });
    expect(changed.metadata?.generation).toBe((before.metadata?.generation ?? 0) + 1);
    expect(passes([defaultPrimaryPredicate], 'update', changed, after)).toBe(true);

    const patched = await patchStatus<Widget>(
      rest,
      Widget,
      { namespace: ns, name: 'w' },
      { note: 'hello' },
    );
    expect(patched.status?.note).toBe('hello');
    expect(patched.status?.conditions).toEqual(conditions); // a merge: the rest stays
  });

  it('a conditional merge patch fails with 409 on a stale resourceVersion', async ({
    kube,
    ns,
  }) => {
    const rest = new RestClient(kube.kc);
    const w = await apply(rest, Widget, widget(ns, { size: 1 }), { fieldManager: 'yard-test' });
    await apply(rest, Widget, widget(ns, { size: 2 }), { fieldManager: 'yard-test' });
    const err: unknown = await mergePatch(
      rest,
      Widget,
      { namespace: ns, name: 'w' },
      { spec: { color: 'red' } },
      {
        resourceVersion: w.metadata?.resourceVersion ?? '',
      },
    ).catch((e: unknown) => e);
    expect(isConflict(err)).toBe(true);
  });
});

describe('finalizers', () => {
  it('hold a deleted object until removed; a stale copy cannot remove one', async ({
    kube,
    ns,
  }) => {
    const rest = new RestClient(kube.kc);
    const fin = 'runtime-test.yard.dev/cleanup';
    const w = await apply(rest, Widget, widget(ns, { size: 1 }), { fieldManager: 'yard-test' });
    const held = await addFinalizer(rest, Widget, w, fin);
    expect(hasFinalizer(held, fin)).toBe(true);
    expect(await addFinalizer(rest, Widget, held, fin)).toBe(held); // already there: no write

    await rest.delete(Widget, ns, 'w');
    const deleting = await rest.get<Widget>(Widget, ns, 'w');
    expect(isDeleting(deleting)).toBe(true);

    // a copy read before the deletion is stale: refused, not overwritten
    const stale: unknown = await removeFinalizer(rest, Widget, held, fin).catch((e: unknown) => e);
    expect(isConflict(stale)).toBe(true);

    await removeFinalizer(rest, Widget, deleting, fin);
    await waitFor('the widget to be gone', async () => {
      try {
        await rest.get(Widget, ns, 'w');
        return notYet('still there');
      } catch (err) {
        return isNotFound(err) ? done(true) : notYet(err);
      }
    });
  });
});
