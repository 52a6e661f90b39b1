import { describe, expect, it } from 'vitest';
import type { KubeObject } from './object.ts';
import {
  AlreadyOwnedError,
  controllerOf,
  isControlledBy,
  ownerKey,
  ownerReference,
  withControllerReference,
} from './owner.ts';
import { kinds } from './resource.ts';
import type { ResourceType } from './resource.ts';

const imservice: KubeObject = {
  apiVersion: 'yard.dev/v1alpha1',
  kind: 'IMService',
  metadata: { name: 'logic', namespace: 'im', uid: 'u-1' },
};
const IMService: ResourceType = {
  group: 'yard.dev',
  version: 'v1alpha1',
  resource: 'imservices',
  kind: 'IMService',
  namespaced: true,
};
const Campus: ResourceType = {
  group: 'yard.dev',
  version: 'v1alpha1',
  resource: 'campuses',
  kind: 'Campus',
  namespaced: false,
};

describe('owner references', () => {
  it('builds a controller reference that blocks owner deletion', () => {
    expect(ownerReference(imservice)).toEqual({
      apiVersion: 'yard.dev/v1alpha1',
      kind: 'IMService',
      name: 'logic',
      uid: 'u-1',
      controller: true,
      blockOwnerDeletion: true,
    });
  });

  it('refuses an owner without a uid (one not read from the API)', () => {
    expect(() => ownerReference({ ...imservice, metadata: { name: 'logic' } })).toThrow(/uid/);
  });

  it('sets the controller reference on a copy, keeping other owners', () => {
    const other = { apiVersion: 'v1', kind: 'ConfigMap', name: 'c', uid: 'u-9' };
    const dep: KubeObject = {
      metadata: { name: 'logic-a', namespace: 'im', ownerReferences: [other] },
    };
    const owned = withControllerReference(dep, imservice);
    expect(owned.metadata?.ownerReferences).toEqual([other, ownerReference(imservice)]);
    expect(dep.metadata?.ownerReferences).toEqual([other]);
    expect(isControlledBy(owned, imservice)).toBe(true);
    expect(controllerOf(owned)?.uid).toBe('u-1');
    // setting it again changes nothing
    expect(withControllerReference(owned, imservice)).toEqual(owned);
  });

  it('refuses a second controller and an owner in another namespace', () => {
    const owned = withControllerReference({ metadata: { name: 'd', namespace: 'im' } }, imservice);
    const rival = { ...imservice, metadata: { name: 'rival', namespace: 'im', uid: 'u-2' } };
    expect(() => withControllerReference(owned, rival)).toThrow(AlreadyOwnedError);
    expect(() =>
      withControllerReference({ metadata: { name: 'd', namespace: 'other' } }, imservice),
    ).toThrow(/namespace/);
  });

  it.each([
    {
      name: 'maps an owned object to its owner key',
      obj: withControllerReference({ metadata: { name: 'd', namespace: 'im' } }, imservice),
      type: IMService,
      want: 'im/logic',
    },
    {
      name: 'a cluster-scoped owner is keyed by name alone',
      obj: {
        metadata: {
          name: 'n',
          namespace: 'im',
          ownerReferences: [
            {
              apiVersion: 'yard.dev/v1alpha1',
              kind: 'Campus',
              name: 'campus-a',
              uid: 'c',
              controller: true,
            },
          ],
        },
      },
      type: Campus,
      want: 'campus-a',
    },
    {
      name: 'an owner of another kind is not ours',
      obj: withControllerReference({ metadata: { name: 'd', namespace: 'im' } }, imservice),
      type: kinds.Deployment,
      want: undefined,
    },
    {
      name: 'a non-controller owner does not count',
      obj: {
        metadata: {
          name: 'd',
          namespace: 'im',
          ownerReferences: [{ ...ownerReference(imservice), controller: false }],
        },
      },
      type: IMService,
      want: undefined,
    },
    {
      name: 'same kind name in another group is not ours',
      obj: {
        metadata: {
          name: 'd',
          namespace: 'im',
          ownerReferences: [{ ...ownerReference(imservice), apiVersion: 'other.io/v1' }],
        },
      },
      type: IMService,
      want: undefined,
    },
  ])('$name', ({ obj, type, want }) => {
    expect(ownerKey(obj, type)).toBe(want);
  });
});
