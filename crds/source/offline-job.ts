// OfflineJob: batch work that runs only on capacity online does not need,
// placed all-or-nothing as a gang, and preempted when online needs it back.
import type { KindSource } from '../kind.ts';
import { enumOf, int32, obj, req, str, withRules } from '../schema.ts';
import {
  conditions,
  dateTime,
  dnsLabel,
  duration,
  observedGeneration,
  podTemplate,
  resources,
} from './common.ts';

export const offlineJobConditionTypes = ['Admitted', 'Complete', 'Failed'] as const;

export const offlineJob: KindSource = {
  kind: 'OfflineJob',
  plural: 'offlinejobs',
  singular: 'offlinejob',
  shortNames: ['oj'],
  scope: 'Namespaced',
  source: 'crds/source/offline-job.ts',
  description:
    'An OfflineJob is batch work (a Job-like set of pods) submitted to an OfflineQueue. It runs only on capacity that online services do not need, starts all-or-nothing when it has a gang minimum, and may be preempted — its pods evicted and recreated later — whenever online needs the capacity back.',
  spec: withRules(
    obj(
      'The job: its queue, pods and how many, gang minimum and priority.',
      {
        queue: req(
          withRules(
            dnsLabel('The OfflineQueue that shares capacity to this job, e.g. "batch-etl".'),
            {
              rule: 'self == oldSelf',
              message: '{field} is immutable: delete the job and submit it to the other queue',
            },
          ),
        ),
        template: req(
          podTemplate(
            "The pods to run, as in a Job's template. Yard sets the scheduler and the priority class of offline work.",
            {
              restartPolicies: ['Never', 'OnFailure'],
              workload: 'an OfflineJob (like a Job)',
              schedulerNameFrom: "offline pods are always placed by Yard's offline framework",
            },
          ),
        ),
        parallelism: int32('How many pods run at once at most.', {
          minimum: 1,
          maximum: 10000,
          default: 1,
        }),
        completions: int32('How many pods must succeed for the job to succeed.', {
          minimum: 1,
          maximum: 100000,
          default: 1,
        }),
        minAvailable: int32(
          'The gang size: the job starts only when this many pods can be placed at once, and none start otherwise (all-or-nothing); if preemption takes it below this, the rest are stopped too. Unset means pods start one by one as capacity allows.',
          { minimum: 1, maximum: 10000 },
        ),
        priority: int32(
          "The job's priority within its queue, -1000 to 1000: higher runs first and is preempted last.",
          { minimum: -1000, maximum: 1000, default: 0 },
        ),
        runDuration: duration(
          'How long each pod runs before it exits successfully, on simulated (kwok) nodes where no container really runs, e.g. "90s". Unset means the pods\' own containers decide.',
          { max: '168h' },
        ),
        backoffLimit: int32(
          'How many pod failures (not preemptions) the job tolerates before it fails.',
          { minimum: 0, maximum: 100, default: 6 },
        ),
      },
      { typeName: 'OfflineJobSpec' },
    ),
    {
      rule: '!has(self.minAvailable) || self.minAvailable <= self.parallelism',
      message:
        '{field} must not exceed {self}.parallelism: a gang larger than the pods that may run at once never starts',
      fieldPath: '.minAvailable',
    },
    {
      rule: '!has(self.minAvailable) || self.minAvailable <= self.completions',
      message:
        '{field} must not exceed {self}.completions: a gang larger than the pods the job ever makes never starts',
      fieldPath: '.minAvailable',
    },
  ),
  status: obj(
    'What the job controller (phase, counts, conditions) and the scheduler (queueShare, admitted, admittedShare, publishedAt) last observed. Written by Yard; do not edit.',
    {
      observedGeneration: observedGeneration(),
      phase: enumOf(
        ['Pending', 'Running', 'Succeeded', 'Failed'],
        'Pending: waiting for capacity (or for the whole gang to fit). Running: pods run. Succeeded: `completions` pods succeeded. Failed: more than backoffLimit pods failed.',
        { typeName: 'OfflineJobPhase', valuesName: 'offlineJobPhases' },
      ),
      active: int32('Pods pending or running.', { minimum: 0 }),
      succeeded: int32('Pods that succeeded.', { minimum: 0 }),
      failed: int32('Pods that failed (preempted pods are not counted here).', { minimum: 0 }),
      preemptions: int32('Pods evicted because online needed the capacity back.', { minimum: 0 }),
      progress: str('"succeeded/completions", for `kubectl get`.', { maxLength: 32 }),
      queueShare: str(
        'The job\'s part of what its queue uses, in the queue\'s dominant resource, as a decimal fraction, e.g. "0.25". Published by the scheduler.',
        { maxLength: 16 },
      ),
      admitted: resources(
        'What the scheduler has placed for the job: the requests of its running pods (binds in flight and pod overhead included). Published by the scheduler.',
        { validate: false },
      ),
      admittedShare: str(
        'That, as a dominant share of the offline capacity (weighted DRF), e.g. "0.125". Published by the scheduler.',
        { maxLength: 16 },
      ),
      publishedAt: dateTime(
        'When the scheduler last published admitted, admittedShare and queueShare (it does when they change).',
      ),
      startTime: dateTime('When the first pod was started.'),
      completionTime: dateTime('When the job succeeded or failed.'),
      conditions: conditions('OfflineJob', offlineJobConditionTypes),
    },
    { typeName: 'OfflineJobStatus' },
  ),
  printerColumns: [
    { name: 'Queue', type: 'string', jsonPath: '.spec.queue', description: 'The queue.' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'The phase.' },
    {
      name: 'Completions',
      type: 'string',
      jsonPath: '.status.progress',
      description: 'Succeeded pods / completions.',
    },
    {
      name: 'Preemptions',
      type: 'integer',
      jsonPath: '.status.preemptions',
      description: 'Pods evicted for online.',
    },
    {
      name: 'Share',
      type: 'string',
      jsonPath: '.status.admittedShare',
      description: 'Its dominant share of the offline capacity, as the scheduler admitted it.',
      priority: 1,
    },
    {
      name: 'Priority',
      type: 'integer',
      jsonPath: '.spec.priority',
      description: 'Priority within the queue.',
      priority: 1,
    },
  ],
  conditionTypes: offlineJobConditionTypes,
};
