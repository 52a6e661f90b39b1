// DrillRun: one drill against one campus, and its report.
import type { KindSource } from '../kind.ts';
import { enumOf, int64, list, num, obj, req, str, withRules } from '../schema.ts';
import { conditions, dateTime, dnsLabel, observedGeneration } from './common.ts';
import { drillAbort, drillDurations, drillMode, drillReport, drillServices } from './drill.ts';

export const drillRunConditionTypes = ['Complete', 'CampusBlocked'] as const;

const maxTimeline = 200;
const maxServices = 64;

const dialStats = (stage: string) =>
  obj(
    `Dial tests ${stage}.`,
    {
      requests: int64('Dial tests made.', { minimum: 0 }),
      failures: int64('Dial tests that failed (an error or no answer in time).', { minimum: 0 }),
      p50Ms: num('Median latency of successful dial tests, in milliseconds.', { minimum: 0 }),
      p99Ms: num('99th-percentile latency of successful dial tests, in milliseconds.', {
        minimum: 0,
      }),
    },
    {
      typeName: 'DialStats',
      typeDescription: 'Counts and latency of the dial tests of one stage of a drill.',
    },
  );

const serviceResult = obj(
  'The dial tests of one IMService and what they say.',
  {
    namespace: req(str("The IMService's namespace.", { maxLength: 63 })),
    name: req(str('The IMService.', { maxLength: 63 })),
    before: dialStats('during the baseline'),
    during: dialStats('while the campus was blocked'),
    after: dialStats('during recovery'),
    pValue: str(
      'The p-value of the test that the failure rate during the block equals the baseline\'s, as a decimal, e.g. "0.003".',
      { maxLength: 32 },
    ),
    verdict: enumOf(
      ['Safe', 'Unsafe', 'Inconclusive'],
      'Safe: losing the campus did not change the failure rate significantly. Unsafe: it did — the service is not campus-safe. Inconclusive: too few dial tests to tell.',
      { typeName: 'ServiceVerdict', valuesName: 'serviceVerdicts' },
    ),
  },
  { typeName: 'DrillServiceResult' },
);

const timelineEvent = obj(
  'One step of the drill.',
  {
    time: req(dateTime('When.')),
    event: req(
      str('What, as a CamelCase word, e.g. "BaselineStarted", "Blocked", "Aborted".', {
        maxLength: 64,
      }),
    ),
    message: str('The details, for a person.', { maxLength: 1024 }),
  },
  { typeName: 'DrillTimelineEvent' },
);

export const drillRun: KindSource = {
  kind: 'DrillRun',
  plural: 'drillruns',
  singular: 'drillrun',
  shortNames: ['drun'],
  scope: 'Cluster',
  source: 'crds/source/drill-run.ts',
  description:
    'A DrillRun is one disaster drill against one campus: its timeline, the dial tests per service before, during and after the block, the statistical verdict, why it aborted or skipped if it did, and a link to its report. A DrillSchedule makes one per drill (keeping historyLimit of them); `kubectl yard drill` makes one now. Its spec is fixed once created.',
  spec: withRules(
    obj(
      'The drill to run. Fixed once created: create another DrillRun instead.',
      {
        campus: req(dnsLabel('The Campus to block, e.g. "campus-b".')),
        mode: drillMode,
        durations: drillDurations,
        services: drillServices,
        abort: drillAbort,
        report: drillReport,
        scheduleRef: obj(
          'The DrillSchedule that started this run; unset when started by hand.',
          { name: req(str('The DrillSchedule.', { maxLength: 253 })) },
          { typeName: 'DrillScheduleRef' },
        ),
      },
      { typeName: 'DrillRunSpec' },
    ),
    {
      rule: 'self == oldSelf',
      message: '{self} is immutable: create another DrillRun to run another drill',
    },
  ),
  status: obj(
    'How the drill went. Written by Yard; do not edit.',
    {
      observedGeneration: observedGeneration(),
      phase: enumOf(
        [
          'Pending',
          'Baseline',
          'Blocking',
          'Recovering',
          'Succeeded',
          'Aborted',
          'Skipped',
          'Failed',
        ],
        'Pending: checking it is safe to start. Baseline: measuring before the block. Blocking: the campus is blocked. Recovering: measuring after. Succeeded: ran to the end (see verdict). Aborted: failures rose beyond the thresholds and the block was lifted early. Skipped: not safe to start (see skipReason). Failed: the drill itself failed.',
        { typeName: 'DrillPhase', valuesName: 'drillPhases' },
      ),
      startTime: dateTime('When the drill started.'),
      blockedUntil: dateTime("When the block lifts at the latest (the shield's expiry)."),
      completionTime: dateTime('When the drill finished.'),
      timeline: list(`The drill's steps, oldest first (at most ${maxTimeline}).`, timelineEvent, {
        maxItems: maxTimeline,
      }),
      perService: list('The dial tests and verdict of each probed IMService.', serviceResult, {
        maxItems: maxServices,
        listType: 'map',
        listMapKeys: ['namespace', 'name'],
      }),
      verdict: enumOf(
        ['Pass', 'Fail', 'Inconclusive'],
        'Pass: every probed service is campus-safe. Fail: at least one is not (see perService) or the drill aborted. Inconclusive: too few dial tests to tell.',
        { typeName: 'DrillVerdict', valuesName: 'drillVerdicts' },
      ),
      abortReason: str('Why the drill aborted, with the numbers.', { maxLength: 1024 }),
      skipReason: str('Why the drill did not start, e.g. "campus-c is shielded".', {
        maxLength: 1024,
      }),
      reportURL: str("The drill's report page, served by the operator.", { maxLength: 2048 }),
      conditions: conditions('DrillRun', drillRunConditionTypes),
    },
    { typeName: 'DrillRunStatus' },
  ),
  printerColumns: [
    { name: 'Campus', type: 'string', jsonPath: '.spec.campus', description: 'The campus.' },
    { name: 'Mode', type: 'string', jsonPath: '.spec.mode', description: 'shield or blackhole.' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'The phase.' },
    { name: 'Verdict', type: 'string', jsonPath: '.status.verdict', description: 'The verdict.' },
    {
      name: 'Schedule',
      type: 'string',
      jsonPath: '.spec.scheduleRef.name',
      description: 'The DrillSchedule.',
      priority: 1,
    },
  ],
  conditionTypes: drillRunConditionTypes,
};
