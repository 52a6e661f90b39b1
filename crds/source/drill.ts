// The parts a DrillSchedule hands to each DrillRun it starts: mode,
// durations, which services to probe, when to abort, where reports go.
import { enumOf, int32, list, obj, req, str, withRules } from '../schema.ts';
import { celString, dnsLabel, duration, httpUrl, labelSelector } from './common.ts';

export const drillMode = enumOf(
  ['shield', 'blackhole'],
  "How the campus is blocked. shield: a graceful routing block — nodes tainted, pods' `yard.dev/serving` readiness False, so callers stop sending. blackhole: the instances become unreachable, so callers must detect the failure on their own.",
  { typeName: 'DrillMode', valuesName: 'drillModes', default: 'shield' },
);

export const drillDurations = obj(
  'How long each stage of a drill lasts.',
  {
    baseline: duration(
      'Dial tests before the block, to measure the normal failure rate and latency, e.g. "5m".',
      { default: '5m' },
    ),
    block: duration('How long the campus stays blocked, e.g. "10m".', { default: '10m' }),
    recovery: duration('Dial tests after the block is lifted, e.g. "5m".', { default: '5m' }),
  },
  { typeName: 'DrillDurations', default: {} },
);

const serviceRef = obj(
  'One IMService.',
  {
    namespace: req(dnsLabel('Its namespace.')),
    name: req(str('Its name.', { maxLength: 63 })),
  },
  { typeName: 'IMServiceRef' },
);

export const drillServices = withRules(
  obj(
    'Which IMServices the drill dial-tests. Unset means every IMService in every namespace. Give a selector (optionally limited to namespaces) or a list of services, not both.',
    {
      selector: labelSelector(
        'IMServices whose labels match, e.g. {"matchLabels": {"drill": "daily"}}.',
      ),
      namespaces: list(
        'Limits `selector` to these namespaces. Unset means every namespace.',
        dnsLabel('A namespace.'),
        { maxItems: 64, listType: 'set' },
      ),
      refs: list('These IMServices, by namespace and name.', serviceRef, {
        minItems: 1,
        maxItems: 64,
        listType: 'map',
        listMapKeys: ['namespace', 'name'],
      }),
    },
    { typeName: 'DrillServices' },
  ),
  {
    rule: '!(has(self.selector) && has(self.refs))',
    message: '{self}: set either selector or refs, not both',
    fieldPath: '.refs',
    reason: 'FieldValueForbidden',
  },
  {
    rule: '!has(self.namespaces) || has(self.selector)',
    message: '{field} only limits a selector: set {self}.selector too, or list refs instead',
    fieldPath: '.namespaces',
  },
);

export const fractionRe = '^(0(\\.[0-9]{1,6})?|1(\\.0{1,6})?)$';

export const drillAbort = obj(
  "When to give up a drill at once and lift the block: when a probed service's failure rate exceeds maxFailureRate in consecutiveWindows windows in a row, each holding at least minSamples dial tests.",
  {
    maxFailureRate: str(
      'The highest tolerable failure rate during the block, as a decimal fraction from "0" to "1" with up to 6 decimals (quote it in YAML: "0.05" is 5%).',
      {
        maxLength: 8,
        default: '0.05',
        rules: [
          {
            rule: `self.matches(${celString(fractionRe)})`,
            message: '{field} must be a decimal fraction from "0" to "1", e.g. "0.05" for 5%',
          },
        ],
      },
    ),
    minSamples: int32(
      'The fewest dial tests a window must hold to count, so a few unlucky requests do not abort a drill.',
      { minimum: 1, maximum: 1000000, default: 100 },
    ),
    consecutiveWindows: int32('How many windows in a row must breach maxFailureRate.', {
      minimum: 1,
      maximum: 60,
      default: 3,
    }),
    window: duration('The length of one window, e.g. "10s".', { default: '10s', max: '1h' }),
  },
  { typeName: 'DrillAbort', default: {} },
);

export const drillReport = obj(
  "Where reports go besides the DrillRun's status, Prometheus metrics and the operator's report page.",
  {
    webhookURL: httpUrl(
      'A URL that receives each finished DrillRun as JSON (an HTTP POST), e.g. "https://chat.example.com/hooks/drills".',
    ),
  },
  { typeName: 'DrillReport' },
);
