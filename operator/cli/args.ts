// `kubectl yard`'s command line, parsed without touching the cluster (pure,
// table-tested in args.test.ts): which command, its campus and options, and
// where the cluster is. Mistakes are UsageErrors (exit 2) that say what to fix.
import { durationFlag, flagsHelp, parseCommandLine, UsageError } from '../../runtime/process.ts';

export const flags = {
  for: {
    type: 'string',
    value: 'DURATION',
    help: 'shield, blackhole: how long it holds (e.g. 30m, 2h); it lifts by itself afterwards',
  },
  reason: { type: 'string', value: 'TEXT', help: 'shield, blackhole: why, for whoever sees it' },
  by: {
    type: 'string',
    value: 'NAME',
    help: 'shield, blackhole: who sets it',
    default: 'the kubeconfig user',
  },
  kubeconfig: {
    type: 'string',
    value: 'PATH',
    help: 'the kubeconfig',
    env: ['KUBECONFIG'],
    default: '~/.kube/config',
  },
  context: { type: 'string', value: 'NAME', help: 'the kubeconfig context to use' },
  namespace: {
    type: 'string',
    short: 'n',
    value: 'NS',
    help: "where Yard's operator and scheduler hold their Leases (their --lease-namespace)",
    env: ['YARD_LEASE_NAMESPACE'],
    default: 'default',
  },
} as const;

export const usage = `usage: kubectl yard <command> [flags]

commands:
  shield CAMPUS --for DURATION --reason TEXT     block a campus: taint its nodes, take its pods out of traffic
  unshield CAMPUS                                lift a campus's shield now
  blackhole CAMPUS --for DURATION --reason TEXT  make every Yard-run instance in a campus unreachable
  unblackhole CAMPUS                             lift a campus's blackhole now
  status                                         who runs, campuses, shields, blackholes, headroom, IM services
  version                                        this plugin's version and API
  help                                           this text

flags:
${flagsHelp(flags)}
Exit codes: 0 done, 1 failed (the cluster refused or is unreachable, no such
campus), 2 usage (this text).
`;

/** Where the cluster is and where Yard runs in it. */
export interface Target {
  readonly kubeconfig: string | undefined;
  readonly context: string | undefined;
  readonly namespace: string;
}

export interface Block {
  readonly campus: string;
  readonly forMs: number;
  readonly reason: string;
  readonly by: string | undefined;
}

export type Command =
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | { readonly kind: 'status' }
  | ({ readonly kind: 'shield' | 'blackhole' } & Block)
  | { readonly kind: 'unshield' | 'unblackhole'; readonly campus: string };

const commands = [
  'shield',
  'unshield',
  'blackhole',
  'unblackhole',
  'status',
  'version',
  'help',
] as const;

const isCommand = (s: string): s is (typeof commands)[number] =>
  (commands as readonly string[]).includes(s);

/** The flags each command takes, beside the cluster's (--kubeconfig, --context, -n). */
const commandFlags: Record<(typeof commands)[number], readonly string[]> = {
  shield: ['for', 'reason', 'by'],
  blackhole: ['for', 'reason', 'by'],
  unshield: [],
  unblackhole: [],
  status: [],
  version: [],
  help: [],
};

const clusterFlags: readonly string[] = ['kubeconfig', 'context', 'namespace'];

/** What a `kubectl yard …` command line asks for; throws a UsageError when it cannot be run. */
export function parseYardArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): { readonly command: Command; readonly target: Target } {
  const { values, positionals, help } = parseCommandLine(argv, flags, { positionals: true });
  const target: Target = {
    kubeconfig: values.kubeconfig ?? env['KUBECONFIG']?.split(':')[0],
    context: values.context,
    namespace: values.namespace ?? env['YARD_LEASE_NAMESPACE'] ?? 'default',
  };
  const [name, ...rest] = positionals;
  if (help || name === 'help') return { command: { kind: 'help' }, target };
  if (name === undefined) throw new UsageError('a command is needed');
  if (!isCommand(name)) throw new UsageError(`unknown command "${name}"`);
  const stray = Object.keys(values).filter(
    (k) => !clusterFlags.includes(k) && !commandFlags[name].includes(k),
  );
  if (stray.length > 0)
    throw new UsageError(`${name} takes no ${stray.map((k) => `--${k}`).join(', ')}`);
  return { command: commandOf(name, rest, values), target };
}

/** The command of a known name, its arguments and flags (checked to be its own). */
function commandOf(
  name: (typeof commands)[number],
  args: readonly string[],
  values: { readonly for?: string; readonly reason?: string; readonly by?: string },
): Command {
  const takesCampus = name !== 'status' && name !== 'version' && name !== 'help';
  const extra = args[takesCampus ? 1 : 0];
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}" after ${name}`);
  if (!takesCampus) return { kind: name };
  const campus = args[0];
  if (!campus) throw new UsageError(`${name} needs a CAMPUS (e.g. kubectl yard ${name} campus-a)`);
  if (name === 'unshield' || name === 'unblackhole') return { kind: name, campus };
  if (values.for === undefined)
    throw new UsageError(
      `${name} needs --for DURATION (e.g. --for 30m), so that it lifts by itself`,
    );
  const forMs = durationFlag('for', values.for);
  if (forMs <= 0) throw new UsageError('--for must be longer than 0s');
  const reason = values.reason?.trim();
  if (!reason) throw new UsageError(`${name} needs --reason TEXT saying why`);
  return { kind: name, campus, forMs, reason, by: values.by };
}
