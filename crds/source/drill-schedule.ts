// DrillSchedule: the daily disaster drill — when, which campus next, how.
import { conditionStatus } from '../kind.ts';
import type { KindSource } from '../kind.ts';
import { bool, int32, obj, req, str } from '../schema.ts';
import { campusList, celString, conditions, dateTime, observedGeneration } from './common.ts';
import { drillAbort, drillDurations, drillMode, drillReport, drillServices } from './drill.ts';

export const drillScheduleConditionTypes = ['Scheduled'] as const;

// Five cron fields (minute hour day-of-month month day-of-week) of digits,
// names (MON, JAN), and * / , - ?; no seconds, no macros, no CRON_TZ=.
const cronField = '[0-9A-Za-z*/,?-]+';
export const cronRe = `^${cronField}( +${cronField}){4}$`;
// Area/Location[/Sub], or a single word such as UTC.
export const timeZoneRe = '^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}$';

export const drillSchedule: KindSource = {
  kind: 'DrillSchedule',
  plural: 'drillschedules',
  singular: 'drillschedule',
  shortNames: ['dsch'],
  scope: 'Cluster',
  source: 'crds/source/drill-schedule.ts',
  description:
    'A DrillSchedule runs the daily disaster drill: on its schedule it starts a DrillRun against the next campus in rotation, which checks it is safe to start, measures a baseline with dial tests, blocks the campus, keeps dial-testing (aborting at once if failures rise beyond the thresholds), lifts the block, and reports per service whether losing the campus changed anything.',
  spec: obj(
    'When drills run, on which campuses, and how.',
    {
      schedule: req(
        str(
          'When a drill starts, as five cron fields: minute hour day-of-month month day-of-week, e.g. "0 3 * * *" for 03:00 every day (in timeZone).',
          {
            maxLength: 128,
            rules: [
              {
                rule: `self.matches(${celString(cronRe)})`,
                message:
                  '{field} must be five cron fields (minute hour day-of-month month day-of-week) separated by spaces, e.g. "0 3 * * *"',
              },
            ],
          },
        ),
      ),
      timeZone: str(
        'The IANA time zone of the schedule, e.g. "Asia/Shanghai". An unknown zone sets the Scheduled condition False.',
        {
          maxLength: 64,
          default: 'UTC',
          rules: [
            {
              rule: `self.matches(${celString(timeZoneRe)})`,
              message: '{field} must be an IANA time zone name such as "UTC" or "Asia/Shanghai"',
            },
          ],
        },
      ),
      campuses: req(
        campusList(
          'The rotation: each drill blocks the next campus of this list, wrapping around, e.g. ["campus-a", "campus-b", "campus-c"].',
        ),
      ),
      mode: drillMode,
      durations: drillDurations,
      services: drillServices,
      abort: drillAbort,
      report: drillReport,
      historyLimit: int32(
        'How many finished DrillRuns of this schedule to keep; older ones are deleted.',
        { minimum: 1, maximum: 100, default: 10 },
      ),
      suspend: bool('Stops new drills from starting; a drill under way runs to its end.', {
        default: false,
      }),
    },
    { typeName: 'DrillScheduleSpec' },
  ),
  status: obj(
    'What the drill controller last observed. Written by Yard; do not edit.',
    {
      observedGeneration: observedGeneration(),
      lastRun: obj(
        'The latest DrillRun of this schedule.',
        {
          name: str('The DrillRun.', { maxLength: 253 }),
          campus: str('The campus it blocked.', { maxLength: 63 }),
          startTime: dateTime('When it started.'),
          completionTime: dateTime('When it finished.'),
          phase: str('Its phase.', { maxLength: 32 }),
          verdict: str('Its verdict.', { maxLength: 32 }),
        },
        { typeName: 'DrillRunSummary' },
      ),
      activeRun: str('The DrillRun under way, if any.', { maxLength: 253 }),
      nextRunTime: dateTime('When the next drill starts.'),
      nextCampus: str('The campus the next drill blocks.', { maxLength: 63 }),
      conditions: conditions('DrillSchedule', drillScheduleConditionTypes),
    },
    { typeName: 'DrillScheduleStatus' },
  ),
  printerColumns: [
    {
      name: 'Schedule',
      type: 'string',
      jsonPath: '.spec.schedule',
      description: 'The cron schedule.',
    },
    { name: 'Mode', type: 'string', jsonPath: '.spec.mode', description: 'shield or blackhole.' },
    { name: 'Suspend', type: 'boolean', jsonPath: '.spec.suspend', description: 'Suspended.' },
    {
      name: 'Next Campus',
      type: 'string',
      jsonPath: '.status.nextCampus',
      description: 'The campus the next drill blocks.',
    },
    {
      name: 'Next Run',
      type: 'date',
      jsonPath: '.status.nextRunTime',
      description: 'When the next drill starts.',
    },
    {
      name: 'Last Verdict',
      type: 'string',
      jsonPath: '.status.lastRun.verdict',
      description: 'The verdict of the latest drill.',
    },
    {
      name: 'Scheduled',
      type: 'string',
      jsonPath: conditionStatus('Scheduled'),
      description: 'Whether the schedule and time zone are usable.',
      priority: 1,
    },
  ],
  conditionTypes: drillScheduleConditionTypes,
};
