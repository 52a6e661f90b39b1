// OfflineQueue: a node of the hierarchical queue tree (YARN / YuniKorn style)
// that shares what online does not need between offline jobs.
import type { KindSource } from '../kind.ts';
import { int32, obj, str, withRules } from '../schema.ts';
import type { Rule } from '../schema.ts';
import { conditions, dateTime, dnsLabel, observedGeneration, resources } from './common.ts';

export const offlineQueueConditionTypes = ['Ready'] as const;

/** guaranteed ≤ max, per resource, when both are given. */
function withinMax(resource: 'cpu' | 'memory'): Rule {
  const g = `self.guaranteed.${resource}`;
  const m = `self.max.${resource}`;
  return {
    rule: `!has(self.guaranteed) || !has(self.max) || !has(${g}) || !has(${m}) || !isQuantity(string(${g})) || !isQuantity(string(${m})) || quantity(string(${g})).compareTo(quantity(string(${m}))) <= 0`,
    message: `{field} must not exceed {self}.max.${resource}: a queue cannot be guaranteed more than its maximum`,
    fieldPath: `.guaranteed.${resource}`,
  };
}

export const offlineQueue: KindSource = {
  kind: 'OfflineQueue',
  plural: 'offlinequeues',
  singular: 'offlinequeue',
  shortNames: ['oq'],
  scope: 'Cluster',
  source: 'crds/source/offline-queue.ts',
  description:
    "An OfflineQueue shares the capacity that online services do not need between offline jobs. Queues form a tree (YARN / YuniKorn style): siblings share their parent's share by weighted dominant-resource fairness, each within its guaranteed and maximum amounts. Offline pods may be preempted whenever online needs the capacity back.",
  name: dnsLabel('The queue name, referred to by OfflineJob.spec.queue and by child queues.'),
  spec: withRules(
    obj(
      'The queue: where it hangs in the tree and its share.',
      {
        parent: dnsLabel(
          'The parent queue. Unset means a top-level queue (a child of the implicit root, which owns all offline capacity). Fixed once created: delete and recreate the queue to move it.',
        ),
        weight: int32(
          "The queue's weight among its siblings: a queue of weight 2 gets twice the share of a sibling of weight 1 when both have work.",
          { minimum: 1, maximum: 1000, default: 1 },
        ),
        guaranteed: resources(
          'What the queue gets whenever it has work, even if siblings must be preempted for it, e.g. {"cpu": "8", "memory": "32Gi"}. Unset means nothing is guaranteed.',
        ),
        max: resources(
          'The most the queue (with its children) may use, even when the rest is idle, e.g. {"cpu": "64", "memory": "256Gi"}. Unset means no limit beyond the parent\'s.',
        ),
      },
      { typeName: 'OfflineQueueSpec', default: {} },
    ),
    {
      rule: 'has(self.parent) == has(oldSelf.parent) && (!has(self.parent) || self.parent == oldSelf.parent)',
      message:
        '{field} is immutable: delete and recreate the queue to move it in the tree (its jobs must move too)',
      fieldPath: '.parent',
    },
    withinMax('cpu'),
    withinMax('memory'),
  ),
  rules: [
    {
      rule: '!has(self.spec.parent) || self.spec.parent != self.metadata.name',
      message: 'spec.parent must not name the queue itself',
      fieldPath: '.spec.parent',
    },
  ],
  status: obj(
    'What the queue controller (jobs, conditions) and the scheduler (the amounts, publishedAt) last observed. Written by Yard; do not edit.',
    {
      observedGeneration: observedGeneration(),
      used: resources(
        "The requests of the queue's running pods, children included (binds in flight and pod overhead too). Published by the scheduler.",
        { validate: false },
      ),
      fairShare: resources(
        "The queue's current fair share of the offline capacity, given its weight and its guaranteed and maximum amounts. Published by the scheduler.",
        { validate: false },
      ),
      dominantShare: str(
        'What the queue uses, as its dominant share of the offline capacity (weighted DRF), a decimal fraction, e.g. "0.25". Published by the scheduler.',
        { maxLength: 16 },
      ),
      fairDominantShare: str(
        'The dominant share its weight, guarantee and maximum entitle it to, e.g. "0.5". Published by the scheduler.',
        { maxLength: 16 },
      ),
      pendingDemand: resources(
        "The requests of the queue's pods waiting to be placed, children included. Published by the scheduler.",
        { validate: false },
      ),
      publishedAt: dateTime(
        'When the scheduler last published the amounts above (at least every 30 s while it leads; an older time means nobody computes them).',
      ),
      pendingJobs: int32('Jobs waiting for capacity.', { minimum: 0 }),
      runningJobs: int32('Jobs with running pods.', { minimum: 0 }),
      conditions: conditions('OfflineQueue', offlineQueueConditionTypes),
    },
    { typeName: 'OfflineQueueStatus' },
  ),
  printerColumns: [
    { name: 'Parent', type: 'string', jsonPath: '.spec.parent', description: 'The parent queue.' },
    { name: 'Weight', type: 'integer', jsonPath: '.spec.weight', description: 'The weight.' },
    {
      name: 'Used CPU',
      type: 'string',
      jsonPath: '.status.used.cpu',
      description: 'CPU requested by running pods.',
    },
    {
      name: 'Fair CPU',
      type: 'string',
      jsonPath: '.status.fairShare.cpu',
      description: 'The fair share of CPU.',
    },
    {
      name: 'Pending CPU',
      type: 'string',
      jsonPath: '.status.pendingDemand.cpu',
      description: 'CPU requested by pods waiting to be placed.',
    },
    {
      name: 'Max CPU',
      type: 'string',
      jsonPath: '.spec.max.cpu',
      description: 'The most CPU the queue may use.',
      priority: 1,
    },
    {
      name: 'Pending',
      type: 'integer',
      jsonPath: '.status.pendingJobs',
      description: 'Jobs waiting for capacity.',
    },
    {
      name: 'Published',
      type: 'date',
      jsonPath: '.status.publishedAt',
      description: 'When the scheduler last published these numbers.',
      priority: 1,
    },
  ],
  conditionTypes: offlineQueueConditionTypes,
};
