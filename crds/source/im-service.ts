// IMService: one IM service module, spread evenly over campuses so that it
// survives the loss of any one without scaling (WeChat's sizing rule).
import { conditionStatus } from '../kind.ts';
import type { KindSource } from '../kind.ts';
import { bool, enumOf, int32, intOrString, list, obj, req, str } from '../schema.ts';
import {
  campusList,
  conditions,
  dns1035Label,
  dnsLabel,
  duration,
  maxCampuses,
  observedGeneration,
  podTemplate,
} from './common.ts';

export const imServiceConditionTypes = [
  'Available',
  'Progressing',
  'CampusSafe',
  'Degraded',
  'CampusesResolved',
] as const;

const rollout = obj(
  'How a change of the pod template rolls out: one campus at a time, each becoming Available before the next starts, after the new image has been pre-distributed to every node that will run it.',
  {
    maxUnavailablePerCampus: intOrString(
      'How many of a campus\'s pods may be unavailable while that campus updates: a count (2) or a percentage of its desired pods ("25%"). Other campuses stay whole meanwhile, so the service keeps at least its capacity.',
      {
        default: '25%',
        rules: [
          {
            rule: "type(self) == int ? self >= 1 : string(self).matches('^(100|[1-9][0-9]?)%$')",
            message:
              '{field} must be a whole number of pods ≥ 1 or a percentage from 1% to 100%, e.g. 1 or "25%"',
          },
        ],
      },
    ),
    campusOrder: list(
      'The order in which campuses update, e.g. ["campus-c", "campus-a", "campus-b"]. Campuses not listed follow, by name. Unset means by name.',
      dnsLabel('The name of a Campus.'),
      { maxItems: maxCampuses, listType: 'set' },
    ),
    pauseBetweenCampuses: duration(
      'How long to wait after one campus is Available before updating the next: a bake time, e.g. "2m".',
      { allowZero: true, default: '0s' },
    ),
    imagePredistribution: bool(
      'Whether to distribute the new images to the nodes (an ImageDistribution, peer to peer) before a campus updates, so no pod waits on the registry.',
      { default: true },
    ),
  },
  { typeName: 'IMServiceRollout', default: {} },
);

const perCampus = obj(
  'The pods of one campus.',
  {
    name: req(str('The Campus.', { maxLength: 63 })),
    desired: int32('Pods the campus should run: ⌈capacity/(N−1)⌉.', { minimum: 0 }),
    ready: int32('Pods that are Ready (and so serving).', { minimum: 0 }),
    updated: int32('Pods at the current template.', { minimum: 0 }),
    available: int32("Pods Ready for at least the Deployment's minReadySeconds.", { minimum: 0 }),
  },
  { typeName: 'IMServiceCampusStatus' },
);

export const imService: KindSource = {
  kind: 'IMService',
  plural: 'imservices',
  singular: 'imservice',
  shortNames: ['ims'],
  scope: 'Namespaced',
  source: 'crds/source/im-service.ts',
  description:
    'An IMService is one module of the IM backend (an access, logic or storage service). Yard runs it as one Deployment per campus that has nodes of its own plus a Service of the same name (none where pod addresses are on loopback, as on the local control plane, since a Service cannot route there), sized so that losing any one campus leaves at least `capacity` pods serving, and rolls out changes campus by campus. The CampusesResolved condition names a campus the spec gives that is not a Campus, and a campus left out because it selects no nodes of its own.',
  name: dns1035Label(
    'The service name; its Service has the same name, so it is a DNS-1035 label (starts with a letter).',
  ),
  spec: obj(
    'The service: its tier, business priority, capacity, campuses, pods and rollout.',
    {
      tier: req(
        enumOf(
          ['access', 'logic', 'storage'],
          "The tier (WeChat's three): access (long connections and push), logic (send, sync, group send) or storage (the quorum store). Fixed once created.",
          {
            typeName: 'IMServiceTier',
            valuesName: 'imServiceTiers',
            rules: [
              {
                rule: 'self == oldSelf',
                message: '{field} is immutable: create a new IMService for another tier',
              },
            ],
          },
        ),
      ),
      businessPriority: req(
        enumOf(
          ['payment', 'message', 'groupchat', 'moments'],
          "The business class, highest first: payment > message > groupchat > moments. It sets the pods' PriorityClass and which requests are shed first under overload (moments first, payment last).",
          { typeName: 'BusinessPriority', valuesName: 'businessPriorities' },
        ),
      ),
      capacity: req(
        int32(
          'The replicas needed at peak. With N campuses each campus runs ⌈capacity/(N−1)⌉, so that losing any one campus leaves at least `capacity` serving with no scale-up: capacity 6 over three campuses runs 3 in each (9 in all; 6 remain after a loss). With a single campus it runs `capacity` there and is never CampusSafe.',
          { minimum: 1, maximum: 10000 },
        ),
      ),
      campuses: campusList(
        'The Campus objects to run in, e.g. ["campus-a", "campus-b", "campus-c"]. Unset means every Campus, so adding or draining a campus rebalances without editing this object.',
      ),
      template: req(
        podTemplate(
          "The pods to run, as in a Deployment's template. Yard adds the campus's node selector, the scheduler, the `yard.dev/serving` readiness gate and the PriorityClass of the business class.",
          {
            restartPolicies: ['Always'],
            workload: 'a Deployment',
            schedulerNameFrom: 'set spec.schedulerName, which Yard copies into every pod',
          },
        ),
      ),
      schedulerName: {
        ...dnsLabel(
          'The scheduler that places the pods: "yard" (Yard\'s two-level scheduler) or, e.g., "default-scheduler".',
        ),
        default: 'yard',
      },
      rollout,
    },
    {
      typeName: 'IMServiceSpec',
      rules: [
        {
          rule: '!has(self.campuses) || !has(self.rollout.campusOrder) || self.rollout.campusOrder.all(c, c in self.campuses)',
          message: '{field} may only name campuses listed in {self}.campuses',
          fieldPath: '.rollout.campusOrder',
        },
      ],
    },
  ),
  status: obj(
    'What the IMService controller last observed. Written by Yard; do not edit.',
    {
      observedGeneration: observedGeneration(),
      replicas: int32('Desired pods over all campuses.', { minimum: 0 }),
      readyReplicas: int32('Ready pods over all campuses.', { minimum: 0 }),
      updatedReplicas: int32('Pods at the current template over all campuses.', { minimum: 0 }),
      availableReplicas: int32('Available pods over all campuses.', { minimum: 0 }),
      campuses: list('Counts per campus.', perCampus, {
        maxItems: maxCampuses,
        listType: 'map',
        listMapKeys: ['name'],
      }),
      rollout: obj(
        'Where the rollout of the current template stands.',
        {
          revision: str('A hash of the pod template being rolled out.', { maxLength: 64 }),
          currentCampus: str('The campus updating now, if any.', { maxLength: 63 }),
          phase: enumOf(
            ['Complete', 'Distributing', 'Updating', 'Pausing', 'Blocked'],
            'Complete: every campus runs the current template. Distributing: the image is being pre-distributed. Updating: currentCampus is updating. Pausing: waiting pauseBetweenCampuses. Blocked: cannot go on (see the Progressing condition).',
            { typeName: 'IMServiceRolloutPhase', valuesName: 'imServiceRolloutPhases' },
          ),
        },
        { typeName: 'IMServiceRolloutStatus' },
      ),
      conditions: conditions('IMService', imServiceConditionTypes),
    },
    { typeName: 'IMServiceStatus' },
  ),
  printerColumns: [
    { name: 'Tier', type: 'string', jsonPath: '.spec.tier', description: 'The tier.' },
    {
      name: 'Priority',
      type: 'string',
      jsonPath: '.spec.businessPriority',
      description: 'The business class.',
    },
    {
      name: 'Capacity',
      type: 'integer',
      jsonPath: '.spec.capacity',
      description: 'Replicas needed at peak.',
    },
    {
      name: 'Ready',
      type: 'integer',
      jsonPath: '.status.readyReplicas',
      description: 'Ready pods over all campuses.',
    },
    {
      name: 'Available',
      type: 'string',
      jsonPath: conditionStatus('Available'),
      description: 'Whether at least `capacity` pods are available.',
    },
    {
      name: 'Safe',
      type: 'string',
      jsonPath: conditionStatus('CampusSafe'),
      description: 'Whether losing any one campus leaves `capacity` pods.',
      priority: 1,
    },
    {
      name: 'Rollout',
      type: 'string',
      jsonPath: '.status.rollout.phase',
      description: 'The rollout phase.',
      priority: 1,
    },
  ],
  conditionTypes: imServiceConditionTypes,
};
