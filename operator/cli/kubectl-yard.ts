// `kubectl yard`: what would otherwise take a hand-made patch. It talks only
// to the API server (the operator does the rest).
//   kubectl yard shield CAMPUS --for 30m --reason "switch upgrade"
//   kubectl yard unshield CAMPUS
//   kubectl yard status
import { parseArgs } from 'node:util';
import {
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { campusResource, imServiceResource } from '../../crds/index.ts';
import type { Campus, CampusList, IMService, IMServiceList } from '../../crds/index.ts';
import { apiMessage, isNotFound, retryTransient } from '../../runtime/errors.ts';
import { formatDuration, parseDuration } from '../../runtime/duration.ts';

export const usage = `usage: kubectl yard <command> [options]

commands:
  shield CAMPUS --for DURATION --reason TEXT   block a campus: taint its nodes, stop its pods serving
  unshield CAMPUS                              lift a campus's shield now
  status                                       campuses, shields, headroom, CampusSafe, IM services per campus

options:
  --for DURATION   how long the shield holds (e.g. 30m, 2h); it lifts by itself afterwards
  --reason TEXT    why, for whoever sees it
  --by NAME        who shields (default: the kubeconfig user)
  --kubeconfig F   the kubeconfig (default: KUBECONFIG or ~/.kube/config)
`;

export class UsageError extends Error {}

export interface Io {
  readonly out: (s: string) => void;
  readonly now: () => Date;
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

async function campusList(api: CustomObjectsApi): Promise<CampusList> {
  return (await retryTransient(() =>
    api.listClusterCustomObject({
      group: campusResource.group,
      version: campusResource.version,
      plural: campusResource.plural,
    }),
  )) as CampusList;
}

async function campusNames(api: CustomObjectsApi): Promise<string[]> {
  const list = await campusList(api);
  return list.items.map((c) => c.metadata.name ?? '').sort();
}

async function patchCampus(api: CustomObjectsApi, name: string, body: object): Promise<Campus> {
  try {
    return (await retryTransient(() =>
      api.patchClusterCustomObject(
        {
          group: campusResource.group,
          version: campusResource.version,
          plural: campusResource.plural,
          name,
          body,
        },
        mergePatch,
      ),
    )) as Campus;
  } catch (err) {
    if (isNotFound(err)) {
      const known = await campusNames(api).catch(() => []);
      throw new UsageError(
        `no campus "${name}"${known.length ? `; campuses: ${known.join(', ')}` : ' (no Campus objects exist)'}`,
        { cause: err },
      );
    }
    throw new Error(`cannot update campus ${name}: ${apiMessage(err)}`, { cause: err });
  }
}

export async function shield(
  kc: KubeConfig,
  io: Io,
  campus: string,
  opts: { for?: string | undefined; reason?: string | undefined; by?: string | undefined },
): Promise<void> {
  if (!opts.for)
    throw new UsageError(
      'shield needs --for DURATION (e.g. --for 30m), so the block lifts by itself',
    );
  if (!opts.reason?.trim()) throw new UsageError('shield needs --reason TEXT saying why');
  let ms: number;
  try {
    ms = parseDuration(opts.for);
  } catch (err) {
    throw new UsageError(`--for: ${(err as Error).message}`, { cause: err });
  }
  if (ms <= 0) throw new UsageError('--for must be longer than 0s');
  const until = new Date(io.now().getTime() + ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const by = opts.by ?? kc.getCurrentUser()?.name ?? process.env['USER'] ?? 'unknown';
  const api = kc.makeApiClient(CustomObjectsApi);
  await patchCampus(api, campus, { spec: { shield: { reason: opts.reason, until, by } } });
  io.out(
    `campus/${campus} shielded until ${until} (${formatDuration(ms)}) by ${by}: ${opts.reason}\n`,
  );
}

export async function unshield(kc: KubeConfig, io: Io, campus: string): Promise<void> {
  const api = kc.makeApiClient(CustomObjectsApi);
  await patchCampus(api, campus, { spec: { shield: null } });
  io.out(`campus/${campus} unshielded\n`);
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

export async function status(kc: KubeConfig, io: Io): Promise<void> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const campuses = (await campusList(api)).items.sort((a, b) =>
    (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''),
  );
  const services = (
    (await retryTransient(() =>
      api.listCustomObjectForAllNamespaces({
        group: imServiceResource.group,
        version: imServiceResource.version,
        resourcePlural: imServiceResource.plural,
      }),
    )) as IMServiceList
  ).items;
  const now = io.now().getTime();
  const shieldText = (c: Campus): string => {
    const s = c.spec?.shield;
    if (!s) return '-';
    const left = new Date(s.until).getTime() - now;
    return left > 0
      ? `until ${s.until} (${formatDuration(left)} left) by ${s.by ?? '?'}: ${s.reason}`
      : `expired ${s.until}`;
  };
  io.out('CAMPUSES\n');
  io.out(
    table([
      ['NAME', 'NODES', 'HEADROOM CPU', 'HEADROOM MEM', 'SAFE', 'SHIELD'],
      ...campuses.map((c) => [
        c.metadata.name ?? '',
        c.status?.nodes?.summary ?? '?',
        String(c.status?.headroom?.cpu ?? '?'),
        String(c.status?.headroom?.memory ?? '?'),
        condition(c.status?.conditions, 'CampusSafe'),
        shieldText(c),
      ]),
    ]),
  );
  const unsafe = campuses.filter((c) => condition(c.status?.conditions, 'CampusSafe') === 'False');
  for (const c of unsafe) {
    const msg = c.status?.conditions?.find((x) => x.type === 'CampusSafe')?.message;
    if (msg) io.out(`  ${c.metadata.name}: ${msg}\n`);
  }
  io.out('\nIM SERVICES (ready/desired per campus)\n');
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

export async function run(
  argv: readonly string[],
  io: Io,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      for: { type: 'string' },
      reason: { type: 'string' },
      by: { type: 'string' },
      kubeconfig: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [cmd, target] = positionals;
  if (values.help || !cmd) {
    io.out(usage);
    return;
  }
  const kc = new KubeConfig();
  if (values.kubeconfig) kc.loadFromFile(values.kubeconfig);
  else if (env['KUBECONFIG']) kc.loadFromFile(env['KUBECONFIG'].split(':')[0] ?? '');
  else kc.loadFromDefault();
  const needCampus = (): string => {
    if (!target) throw new UsageError(`${cmd} needs a CAMPUS`);
    return target;
  };
  switch (cmd) {
    case 'shield':
      return shield(kc, io, needCampus(), {
        for: values.for,
        reason: values.reason,
        by: values.by,
      });
    case 'unshield':
      return unshield(kc, io, needCampus());
    case 'status':
      return status(kc, io);
    default:
      throw new UsageError(`unknown command "${cmd}"`);
  }
}

if (import.meta.main) {
  run(process.argv.slice(2), { out: (s) => process.stdout.write(s), now: () => new Date() }).catch(
    (err: unknown) => {
      process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
      if (err instanceof UsageError) process.stderr.write(`\n${usage}`);
      process.exit(err instanceof UsageError ? 2 : 1);
    },
  );
}
