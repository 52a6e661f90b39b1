// Campus: one zone of the three-campus design (WeChat.md §1), and the manual
// "block this campus" switch (the shield).
import { conditionStatus } from '../kind.ts';
import type { KindSource } from '../kind.ts';
import { bool, int32, obj, req, str } from '../schema.ts';
import {
  conditions,
  dateTime,
  dnsLabel,
  labelMap,
  observedGeneration,
  resources,
} from './common.ts';

export const campusConditionTypes = ['CampusSafe', 'Shielded', 'NodesSelected'] as const;

const shield = obj(
  'Blocks the campus — the manual global block of the three-campus design. While it is set and `until` has not passed, the campus\'s nodes are tainted against new placements and every serving pod there reports its `yard.dev/serving` readiness condition False, so traffic leaves the campus. Delete the field, or let `until` pass, to lift it. `kubectl yard shield CAMPUS --for 30m --reason "…"` sets it; `kubectl yard unshield CAMPUS` removes it.',
  {
    reason: req(
      str(
        'Why the campus is blocked, for the people who see it, e.g. "switch upgrade in hall 3".',
        {
          maxLength: 256,
          rules: [
            {
              rule: 'self.trim().size() > 0',
              message: '{field} must say why the campus is shielded (it is blank)',
            },
          ],
        },
      ),
    ),
    until: req(
      dateTime(
        'When the shield lifts by itself. A block never outlives this time, even if nobody is watching: whichever operator replica leads lifts it.',
      ),
    ),
    by: str('Who set the shield (a person or "drill/<DrillRun name>"), for the audit trail.', {
      maxLength: 128,
    }),
  },
  { typeName: 'CampusShield' },
);

const blackhole = obj(
  'Makes every Yard-run instance in the campus unreachable — a harsher block than the shield, for the drill\'s `blackhole` mode or a person rehearsing a campus loss. Nothing is routed away: callers must notice the failures and stop calling those instances on their own. The node agent of each of the campus\'s nodes enforces it locally (a NetworkPolicy would on a real cluster) and lifts it by itself when `until` passes, even if whoever set it is gone. Delete the field, or let `until` pass, to lift it. `kubectl yard blackhole CAMPUS --for 5m --reason "…"` sets it; `kubectl yard unblackhole CAMPUS` removes it.',
  {
    reason: req(
      str('Why the campus is blackholed, for the people who see it, e.g. "drill 2026-12-07".', {
        maxLength: 256,
        rules: [
          {
            rule: 'self.trim().size() > 0',
            message: '{field} must say why the campus is blackholed (it is blank)',
          },
        ],
      }),
    ),
    until: req(
      dateTime(
        'When the blackhole lifts by itself. The node agents lift it at this time whether or not anyone is watching.',
      ),
    ),
    by: str('Who set it (a person or "drill/<DrillRun name>"), for the audit trail.', {
      maxLength: 128,
    }),
  },
  { typeName: 'CampusBlackhole' },
);

export const campus: KindSource = {
  kind: 'Campus',
  plural: 'campuses',
  singular: 'campus',
  shortNames: ['cmp'],
  scope: 'Cluster',
  source: 'crds/source/campus.ts',
  description:
    "A Campus is one zone of the cluster (a data-centre campus): which nodes belong to it, its region, how much of it online services may use, and whether it is shielded (blocked) right now. IM services are spread evenly over campuses so that any one can be lost. Its name is the value of the nodes' topology.kubernetes.io/zone label unless spec.nodeSelector says otherwise.",
  name: dnsLabel(
    'The campus name: a DNS label, since it is a label value (the zone) and part of object names.',
  ),
  spec: obj(
    'What the campus is: its nodes, region, online ceiling and shield.',
    {
      nodeSelector: labelMap(
        'Labels that select this campus\'s nodes; a node must carry all of them. Unset means `topology.kubernetes.io/zone: <metadata.name>`, so a Campus named like its zone needs nothing here. Example: {"topology.kubernetes.io/zone": "sh-campus-a"}.',
        { nonEmpty: true },
      ),
      region: dnsLabel(
        'The region the campus is in, e.g. "shanghai". Shown in `kubectl get campuses` and in drill reports.',
      ),
      onlineCeilingPercent: int32(
        "The share of the campus's allocatable CPU and memory that online (IMService) pods may request, in percent, 1–100. Unset means (N−1)/N with N campuses — 2/3 with three — which is exactly what lets the other campuses absorb this one's online load if it is lost. Offline jobs may use whatever online does not.",
        { minimum: 1, maximum: 100 },
      ),
      shield,
      blackhole,
    },
    { typeName: 'CampusSpec', default: {} },
  ),
  status: obj(
    'What the campus controller (nodes, shield, conditions) and the scheduler (the amounts, publishedAt) last observed. Written by Yard; do not edit.',
    {
      observedGeneration: observedGeneration(),
      nodes: obj("The campus's nodes.", {
        ready: int32('Nodes that are Ready and not cordoned.', { minimum: 0 }),
        total: int32('Nodes the selector matches.', { minimum: 0 }),
        summary: str('"ready/total", for `kubectl get`.', { maxLength: 32 }),
      }),
      allocatable: resources(
        'The sum of the allocatable resources of the nodes the scheduler counts in this campus (every node the campus owns, ready or not). Published by the scheduler, like every amount below: what it decided with, not a recomputation.',
        { validate: false },
      ),
      onlineCeilingPercent: str(
        'The online ceiling in force, in percent of allocatable, e.g. "66.7": spec.onlineCeilingPercent (else (N−1)/N), raised while other campuses are shielded. Published by the scheduler.',
        { maxLength: 16 },
      ),
      onlineCeiling: resources(
        'How much online pods may request here now: allocatable × the online ceiling in force. Published by the scheduler.',
        { validate: false },
      ),
      failoverCeiling: resources(
        'How much online pods could request here if one more campus were lost (allocatable × the ceiling the scheduler would raise it to): the room CampusSafe counts on. Published by the scheduler.',
        { validate: false },
      ),
      onlineGrant: resources(
        'What the scheduler grants online here: what online holds, or up to the ceiling the room it holds for shielded campuses. Published by the scheduler.',
        { validate: false },
      ),
      onlineRequests: resources(
        "The requests of the online pods on the campus's nodes, pod overhead and binds in flight included: every pod not offline, whoever placed it. Published by the scheduler.",
        { validate: false },
      ),
      offlineGrant: resources(
        'What the scheduler grants offline (OfflineJob) work here: allocatable less the online grant; nothing while the campus is shielded. Published by the scheduler.',
        { validate: false },
      ),
      offlineRequests: resources(
        "The requests of the offline (OfflineJob) pods on the campus's nodes, pod overhead and binds in flight included. Published by the scheduler.",
        { validate: false },
      ),
      reserve: resources(
        'Room held here for the online load of shielded campuses (offline work in it is revoked). Published by the scheduler.',
        { validate: false },
      ),
      headroom: resources(
        'The online ceiling in force minus the online requests: how much more online load the campus can take now (0 when at or over the ceiling). Published by the scheduler.',
        { validate: false },
      ),
      publishedAt: dateTime(
        'When the scheduler last published the amounts above. It republishes at least every 30 s while it leads, so an older time means nobody is computing them: the campus controller then reports CampusSafe Unknown.',
      ),
      shield: obj(
        'The shield as applied: whether the campus is blocked now, and by whom, why, since and until when.',
        {
          active: bool(
            'Whether the campus is blocked now (the shield is set and has not expired).',
          ),
          since: dateTime('When the block took effect.'),
          until: dateTime('When it lifts by itself.'),
          by: str('Who set it.', { maxLength: 128 }),
          reason: str('Why.', { maxLength: 256 }),
        },
        { typeName: 'CampusShieldStatus' },
      ),
      conditions: conditions('Campus', campusConditionTypes),
    },
    { typeName: 'CampusStatus' },
  ),
  printerColumns: [
    { name: 'Region', type: 'string', jsonPath: '.spec.region', description: 'The region.' },
    {
      name: 'Nodes',
      type: 'string',
      jsonPath: '.status.nodes.summary',
      description: 'Ready nodes / all nodes.',
    },
    {
      name: 'Shielded',
      type: 'boolean',
      jsonPath: '.status.shield.active',
      description: 'Whether the campus is blocked now.',
    },
    {
      name: 'Headroom',
      type: 'string',
      jsonPath: '.status.headroom.cpu',
      description: 'CPU online pods may still request before the online ceiling.',
    },
    {
      name: 'Ceiling',
      type: 'string',
      jsonPath: '.status.onlineCeilingPercent',
      description:
        'The online ceiling in force, in percent (raised while another campus is shielded).',
    },
    {
      name: 'Safe',
      type: 'string',
      jsonPath: conditionStatus('CampusSafe'),
      description: "Whether the other campuses can absorb this one's online load.",
    },
    {
      name: 'Blackhole',
      type: 'date',
      jsonPath: '.spec.blackhole.until',
      description: 'Until when the campus is blackholed (its instances unreachable), if it is.',
      priority: 1,
    },
    {
      name: 'Online',
      type: 'string',
      jsonPath: '.status.onlineRequests.cpu',
      description: 'CPU requested by online pods, as the scheduler counts it.',
      priority: 1,
    },
    {
      name: 'Offline',
      type: 'string',
      jsonPath: '.status.offlineRequests.cpu',
      description: 'CPU requested by offline pods, as the scheduler counts it.',
      priority: 1,
    },
    {
      name: 'Published',
      type: 'date',
      jsonPath: '.status.publishedAt',
      description: 'When the scheduler last published these numbers.',
      priority: 1,
    },
    {
      name: 'Until',
      type: 'date',
      jsonPath: '.status.shield.until',
      description: 'When the shield lifts.',
      priority: 1,
    },
  ],
  conditionTypes: campusConditionTypes,
};
