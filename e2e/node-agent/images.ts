// The image → command table: which local process stands in for a container
// of each of the project's images. Pure: it builds a command line from the pod;
// the adapter resolves binaries and spawns. README.md documents the table.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Container, PodObject } from './types.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** What a launch needs to know; everything here is decided before the spawn. */
export interface LaunchContext {
  readonly pod: PodObject;
  readonly container: Container;
  readonly podIP: string;
  /** The pod's own folder: the process's working directory and data. */
  readonly podDir: string;
  /** The container's resolved environment (pod env and YARD_LISTEN). */
  readonly env: Readonly<Record<string, string>>;
  /** The Node 26 binary that runs TypeScript mains. */
  readonly node: string;
  /** Binaries of the local control plane, when an image needs one. */
  readonly binaries: { readonly etcd?: string | undefined };
}

export type Launch =
  | { readonly ok: true; readonly file: string; readonly args: readonly string[] }
  | { readonly ok: false; readonly reason: string; readonly message: string };

export interface ImageEntry {
  /** The image without tag or digest, e.g. `registry.local/yard/im-access`. */
  readonly repository: string;
  /** One line for the README and error messages. */
  readonly summary: string;
  /** The command line, before the container's own `args` (appended by the caller). */
  launch(ctx: LaunchContext): Launch;
  /** The HTTP path of the readiness check when the container has no readinessProbe. */
  readonly readinessPath?: string;
  /** The port of the readiness check and YARD_LISTEN (default: the first containerPort). */
  readinessPort?(container: Container): number | undefined;
  /** Control-plane binaries the command runs (found at the pinned version). */
  readonly needs?: readonly 'etcd'[];
}

/** `host[:port]/path[:tag][@digest]` → `host[:port]/path`. */
export function repositoryOf(image: string): string {
  const noDigest = image.split('@')[0] ?? '';
  const colon = noDigest.lastIndexOf(':');
  return colon > noDigest.lastIndexOf('/') ? noDigest.slice(0, colon) : noDigest;
}

export function findImage(
  image: string | undefined,
  table: readonly ImageEntry[],
): ImageEntry | undefined {
  if (!image) return undefined;
  const repo = repositoryOf(image);
  return table.find((e) => e.repository === repo);
}

/** The container port named `name`, else the first one, else `fallback`. */
export function portOf(c: Container, name?: string, fallback?: number): number | undefined {
  const named = name ? c.ports?.find((p) => p.name === name)?.containerPort : undefined;
  if (named !== undefined) return named;
  return name && fallback !== undefined ? fallback : (c.ports?.[0]?.containerPort ?? fallback);
}

/** A TypeScript main of this repository, run by Node 26 (type stripping). */
function tsMain(repository: string, file: string, summary: string): ImageEntry {
  return {
    repository,
    summary,
    readinessPath: '/readyz',
    launch: (ctx) => ({ ok: true, file: ctx.node, args: [join(repoRoot, file)] }),
  };
}

const etcdClientPort = 2379;
const etcdPeerPort = 2380;

/** Whether a container sets an etcd flag itself, as a flag or as ETCD_<NAME>. */
function setsEtcdFlag(ctx: LaunchContext, flag: string): boolean {
  const envName = `ETCD_${flag.toUpperCase().replaceAll('-', '_')}`;
  return (
    ctx.env[envName] !== undefined ||
    (ctx.container.args ?? []).some((a) => a === `--${flag}` || a.startsWith(`--${flag}=`))
  );
}

/**
 * One etcd member per pod, on the pod's address: name, data and URLs come
 * from the pod; the peers (`--initial-cluster`, `--initial-cluster-state`,
 * the token) from its args or ETCD_* env. Without peers it is a one-member
 * cluster. Stable peer addresses come from the yard.dev/pod-ip annotation.
 */
const etcd: ImageEntry = {
  repository: 'registry.local/yard/im-etcd',
  summary: "one etcd member (the control plane's pinned etcd) per pod",
  needs: ['etcd'],
  readinessPath: '/readyz',
  readinessPort: (c) => portOf(c, 'client', etcdClientPort),
  launch(ctx) {
    const bin = ctx.binaries.etcd;
    if (!bin) {
      return {
        ok: false,
        reason: 'ErrImagePull',
        message:
          'im-etcd runs the pinned etcd binary, which is not built yet: run `npm run cluster:build`',
      };
    }
    const name = ctx.pod.metadata?.name ?? 'etcd';
    const client = `http://${ctx.podIP}:${portOf(ctx.container, 'client', etcdClientPort)}`;
    const peer = `http://${ctx.podIP}:${portOf(ctx.container, 'peer', etcdPeerPort)}`;
    const defaults: [string, string][] = [
      ['name', name],
      ['data-dir', join(ctx.podDir, 'etcd-data')],
      ['listen-client-urls', client],
      ['advertise-client-urls', client],
      ['listen-peer-urls', peer],
      ['initial-advertise-peer-urls', peer],
      ['initial-cluster', `${name}=${peer}`],
      ['log-level', 'warn'],
    ];
    const args = defaults
      .filter(([flag]) => !setsEtcdFlag(ctx, flag))
      .map(([flag, v]) => `--${flag}=${v}`);
    return { ok: true, file: bin, args };
  },
};

/** Answers /healthz and /readyz and echoes requests: tests the agent without the IM services. */
const echo = tsMain(
  'registry.local/yard/echo',
  'e2e/node-agent/echo.ts',
  'a tiny HTTP echo server',
);

/** The project's images. The tag (or digest) is not looked at: the work tree is the image. */
export const imageTable: readonly ImageEntry[] = [
  tsMain('registry.local/yard/im-access', 'services/access/main.ts', 'the IM access service'),
  tsMain('registry.local/yard/im-logic', 'services/logic/main.ts', 'the IM logic service'),
  tsMain('registry.local/yard/im-storage', 'services/storage/main.ts', 'the IM storage service'),
  tsMain('registry.local/yard/im-prober', 'services/prober/main.ts', 'the dial-test prober'),
  etcd,
  echo,
];

/** Why a container cannot be launched: no entry, or a command override. */
export function launchProblem(
  c: Container,
  table: readonly ImageEntry[],
): { readonly reason: string; readonly message: string } | undefined {
  if (!findImage(c.image, table)) {
    return {
      reason: 'ErrImagePull',
      message: `the node agent has no command for image ${JSON.stringify(c.image ?? '')}; it runs ${table
        .map((e) => `${e.repository}:*`)
        .join(', ')} (e2e/node-agent/images.ts)`,
    };
  }
  if (c.command && c.command.length > 0) {
    return {
      reason: 'CreateContainerError',
      message:
        'the node agent runs the image table\'s command for each image and cannot honour "command"; pass flags in "args"',
    };
  }
  return undefined;
}
