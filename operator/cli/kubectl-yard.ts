// `kubectl yard`: what would otherwise take a hand-made patch. It talks only
// to the API server: what it writes is the truth that the operator (shield)
// and the node agents (blackhole) act on, so it writes even when nothing runs
// to act, and says so (the Leases tell who runs: leases.ts).
//   kubectl yard shield CAMPUS --for 30m --reason "switch upgrade"
//   kubectl yard unshield CAMPUS
//   kubectl yard blackhole CAMPUS --for 5m --reason "drill rehearsal"
//   kubectl yard unblackhole CAMPUS
//   kubectl yard status
// Exit codes: 0 done, 1 failed, 2 usage.
import { readFileSync } from 'node:fs';
import {
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { campusResource, imServiceResource, shieldState } from '../../crds/index.ts';
import type { Campus, CampusList, IMService, IMServiceList } from '../../crds/index.ts';
import { formatDuration } from '../../runtime/duration.ts';
import { apiMessage, isNotFound, retryTransient } from '../../runtime/errors.ts';
import { UsageError } from '../../runtime/process.ts';
import { parseYardArgs, usage } from './args.ts';
import type { Block, Target } from './args.ts';
import {
  describeLease,
  isHeld,
  nobodyHolds,
  operatorLease,
  readLeaseState,
  schedulerLease,
} from './leases.ts';
import type { LeaseState } from './leases.ts';

export { usage } from './args.ts';
export { UsageError } from '../../runtime/process.ts';

export interface Io {
  readonly out: (s: string) => void;
  /** Warnings (default: nowhere). */
  readonly err?: (s: string) => void;
  readonly now: () => Date;
}

/** The campus named does not exist: a failure (exit 1), not a usage error. */
export class NoSuchCampusError extends Error {
  override name = 'NoSuchCampusError';
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

const campusApi = {
  group: campusResource.group,
  version: campusResource.version,
  plural: campusResource.plural,
} as const;

/** The kubeconfig of a target: its file (or the default chain) and context. */
export function kubeConfigOf(target: Target): KubeConfig {
  const kc = new KubeConfig();
  if (target.kubeconfig) kc.loadFromFile(target.kubeconfig);
  else kc.loadFromDefault();
  if (target.context) {
    if (!kc.getContextObject(target.context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new UsageError(
        `no context "${target.context}" in the kubeconfig${known.length ? `; contexts: ${known.join(', ')}` : ''}`,
      );
    }
    kc.setCurrentContext(target.context);
  }
  return kc;
}

async function campusList(api: CustomObjectsApi): Promise<CampusList> {
  return (await retryTransient(() => api.listClusterCustomObject(campusApi))) as CampusList;
}

async function noSuchCampus(api: CustomObjectsApi, name: string, cause: unknown): Promise<Error> {
  const known = await campusList(api)
    .then((l) => l.items.map((c) => c.metadata.name ?? '').sort())
    .catch(() => []);
  return new NoSuchCampusError(
    `no campus "${name}"${known.length ? `; campuses: ${known.join(', ')}` : ' (no Campus objects exist)'}`,
    { cause },
  );
}

async function readCampus(api: CustomObjectsApi, name: string): Promise<Campus> {
  try {
    return (await retryTransient(() =>
      api.getClusterCustomObject({ ...campusApi, name }),
    )) as Campus;
  } catch (err) {
    if (isNotFound(err)) throw await noSuchCampus(api, name, err);
    throw new Error(`cannot read campus ${name}: ${apiMessage(err)}`, { cause: err });
  }
}

async function patchCampus(api: CustomObjectsApi, name: string, body: object): Promise<Campus> {
  try {
    return (await retryTransient(() =>
      api.patchClusterCustomObject({ ...campusApi, name, body }, mergePatch),
    )) as Campus;
  } catch (err) {
    if (isNotFound(err)) throw await noSuchCampus(api, name, err);
    throw new Error(`cannot update campus ${name}: ${apiMessage(err)}`, { cause: err });
  }
}

const rfc3339 = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Who is writing: --by, else the kubeconfig user, else $USER. */
const whoOf = (kc: KubeConfig, by: string | undefined): string =>
  by ?? kc.getCurrentUser()?.name ?? process.env['USER'] ?? 'unknown';

/** Says on stderr that nothing will act on what was written, when the operator's lease says so. */
async function warnIfNoOperator(
  kc: KubeConfig,
  io: Io,
  target: Target,
  consequence: string,
): Promise<void> {
  const lease = await readLeaseState(kc, target.namespace, operatorLease, io.now());
  if (!nobodyHolds(lease)) return;
  io.err?.(
    `warning: no operator runs (Lease ${target.namespace}/${operatorLease}: ${describeLease(lease)}); ` +
      `${consequence} until one does (or, if Yard runs in another namespace, pass -n NAMESPACE)\n`,
  );
}

type BlockField = 'shield' | 'blackhole';

/** What the existing block of a campus is at `now`, in words, or undefined when there is none. */
function blockText(campus: Campus, field: BlockField, now: Date): string | undefined {
  const s = shieldState(campus.spec?.[field], now);
  if (s.kind === 'none') return undefined;
  if (s.kind === 'expired') return `expired ${rfc3339(s.until)}`;
  return `until ${rfc3339(s.until)} (${formatDuration(s.until.getTime() - now.getTime())} left) by ${s.by}: ${s.reason}`;
}

async function block(
  kc: KubeConfig,
  io: Io,
  target: Target,
  field: BlockField,
  b: Block,
): Promise<void> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const now = io.now();
  const before = await readCampus(api, b.campus);
  const replaced = blockText(before, field, now);
  const until = rfc3339(new Date(now.getTime() + b.forMs));
  const by = whoOf(kc, b.by);
  await patchCampus(api, b.campus, { spec: { [field]: { reason: b.reason, until, by } } });
  const verb = field === 'shield' ? 'shielded' : 'blackholed';
  io.out(
    `campus/${b.campus} ${verb} until ${until} (${formatDuration(b.forMs)}) by ${by}: ${b.reason}` +
      `${replaced ? ` (replacing: ${replaced})` : ''}\n`,
  );
  if (field === 'shield') {
    await warnIfNoOperator(
      kc,
      io,
      target,
      `nothing taints its nodes or takes its pods out of traffic`,
    );
  } else {
    // The node agents hold no lease: whether any runs cannot be seen from here.
    io.err?.(
      `note: the node agent on each of ${b.campus}'s nodes enforces the blackhole; kubectl yard cannot see whether they run\n`,
    );
  }
}

async function unblock(
  kc: KubeConfig,
  io: Io,
  target: Target,
  field: BlockField,
  campus: string,
): Promise<void> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const now = io.now();
  const noun = field === 'shield' ? 'shielded' : 'blackholed';
  const was = blockText(await readCampus(api, campus), field, now);
  if (was === undefined) {
    io.out(`campus/${campus} is not ${noun}; nothing to do\n`);
    return;
  }
  await patchCampus(api, campus, { spec: { [field]: null } });
  io.out(`campus/${campus} un${noun} (was ${was})\n`);
  if (field === 'shield') {
    await warnIfNoOperator(
      kc,
      io,
      target,
      `its nodes keep their taint and its pods stay out of traffic`,
    );
  }
}

export function shield(kc: KubeConfig, io: Io, target: Target, b: Block): Promise<void> {
  return block(kc, io, target, 'shield', b);
}
export function unshield(kc: KubeConfig, io: Io, target: Target, campus: string): Promise<void> {
  return unblock(kc, io, target, 'shield', campus);
}
export function blackhole(kc: KubeConfig, io: Io, target: Target, b: Block): Promise<void> {
  return block(kc, io, target, 'blackhole', b);
}
export function unblackhole(kc: KubeConfig, io: Io, target: Target, campus: string): Promise<void> {
  return unblock(kc, io, target, 'blackhole', campus);
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return (
    rows
      .map((r) =>
        r
          .map((c, i) => c.padEnd(widths[i] ?? 0))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

const condition = (conds: { type: string; status: string }[] | undefined, type: string): string =>
  conds?.find((c) => c.type === type)?.status ?? '?';

/**
 * The first lines of `status`: who holds the Leases, and what that makes
 * stale (pure). Campus and IMService status is written by the operator;
 * placements (and the capacity the scheduler publishes) by the scheduler.
 */
export function leaderLines(
  namespace: string,
  operator: LeaseState,
  scheduler: LeaseState,
): string[] {
  const lines = [
    `LEASES (${namespace})  operator: ${describeLease(operator)}  scheduler: ${describeLease(scheduler)}`,
  ];
  if (!isHeld(operator))
    lines.push(
      nobodyHolds(operator)
        ? 'STALE: no operator runs, so the status below is as the last one left it; shields are neither applied nor lifted'
        : 'UNKNOWN: whether an operator runs; the status below may be stale',
    );
  if (!isHeld(scheduler))
    lines.push(
      nobodyHolds(scheduler)
        ? 'STALE: no scheduler runs, so pods of schedulerName yard stay Pending and capacity numbers are as the last one left them'
        : 'UNKNOWN: whether a scheduler runs; capacity numbers may be stale',
    );
  return lines;
}

export async function status(kc: KubeConfig, io: Io, target: Target): Promise<void> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const now = io.now();
  const [campusItems, services, operator, scheduler] = await Promise.all([
    campusList(api).then((l) => l.items),
    retryTransient(() =>
      api.listCustomObjectForAllNamespaces({
        group: imServiceResource.group,
        version: imServiceResource.version,
        resourcePlural: imServiceResource.plural,
      }),
    ).then((l) => (l as IMServiceList).items),
    readLeaseState(kc, target.namespace, operatorLease, now),
    readLeaseState(kc, target.namespace, schedulerLease, now),
  ]);
  const campuses = campusItems.sort((a, b) =>
    (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''),
  );
  const stale = isHeld(operator) ? '' : ' (stale: no operator updates them)';
  io.out(`${leaderLines(target.namespace, operator, scheduler).join('\n')}\n\n`);
  io.out(`CAMPUSES${stale}\n`);
  io.out(
    table([
      ['NAME', 'NODES', 'HEADROOM CPU', 'HEADROOM MEM', 'SAFE', 'SHIELD', 'BLACKHOLE'],
      ...campuses.map((c) => [
        c.metadata.name ?? '',
        c.status?.nodes?.summary ?? '?',
        String(c.status?.headroom?.cpu ?? '?'),
        String(c.status?.headroom?.memory ?? '?'),
        condition(c.status?.conditions, 'CampusSafe'),
        blockText(c, 'shield', now) ?? '-',
        blockText(c, 'blackhole', now) ?? '-',
      ]),
    ]),
  );
  const unsafe = campuses.filter((c) => condition(c.status?.conditions, 'CampusSafe') === 'False');
  for (const c of unsafe) {
    const msg = c.status?.conditions?.find((x) => x.type === 'CampusSafe')?.message;
    if (msg) io.out(`  ${c.metadata.name}: ${msg}\n`);
  }
  io.out(`\nIM SERVICES (ready/desired per campus)${stale}\n`);
  const names = campuses.map((c) => c.metadata.name ?? '');
  const perCampus = (s: IMService, campus: string): string => {
    const st = s.status?.campuses?.find((c) => c.name === campus);
    return st ? `${st.ready ?? 0}/${st.desired ?? 0}` : '-';
  };
  io.out(
    table([
      [
        'NAMESPACE',
        'NAME',
        'TIER',
        'PRIORITY',
        'CAPACITY',
        ...names.map((n) => n.toUpperCase()),
        'AVAILABLE',
        'CAMPUS-SAFE',
      ],
      ...services.map((s) => [
        s.metadata.namespace ?? '',
        s.metadata.name ?? '',
        s.spec.tier,
        s.spec.businessPriority,
        String(s.spec.capacity),
        ...names.map((n) => perCampus(s, n)),
        condition(s.status?.conditions, 'Available'),
        condition(s.status?.conditions, 'CampusSafe'),
      ]),
    ]),
  );
}

/** `kubectl-yard 0.1.0 (yard.dev/v1alpha1)`: the repository's version and the API it speaks. */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version?: string;
  };
  return `kubectl-yard ${pkg.version ?? '?'} (${campusResource.group}/${campusResource.version})\n`;
}

/** Runs one command line; throws a UsageError (exit 2) or another error (exit 1). */
export async function run(
  argv: readonly string[],
  io: Io,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const { command, target } = parseYardArgs(argv, env);
  switch (command.kind) {
    case 'help':
      io.out(usage);
      return;
    case 'version':
      io.out(version());
      return;
  }
  const kc = kubeConfigOf(target);
  switch (command.kind) {
    case 'shield':
      return shield(kc, io, target, command);
    case 'blackhole':
      return blackhole(kc, io, target, command);
    case 'unshield':
      return unshield(kc, io, target, command.campus);
    case 'unblackhole':
      return unblackhole(kc, io, target, command.campus);
    case 'status':
      return status(kc, io, target);
  }
}

/** The exit code of a run's failure, after saying what went wrong on stderr. */
export function failure(err: unknown, writeErr: (s: string) => void): number {
  writeErr(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  if (!(err instanceof UsageError)) return 1;
  writeErr(`\n${usage}`);
  return 2;
}

if (import.meta.main) {
  // A reader that goes away (`kubectl yard status | head -1`) is not a
  // failure of ours: stop quietly instead of dying on an unhandled EPIPE.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(0);
      throw err;
    });
  }
  const io: Io = {
    out: (s) => void process.stdout.write(s),
    err: (s) => void process.stderr.write(s),
    now: () => new Date(),
  };
  run(process.argv.slice(2), io).then(
    () => {
      process.exitCode = 0;
    },
    (err: unknown) => {
      process.exitCode = failure(err, io.err ?? (() => undefined));
    },
  );
}
