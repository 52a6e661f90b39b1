// The IM backend for bench:im as real processes: a three-member etcd (one
// member per campus, e2e/harness/etcd-cluster.ts) and the services'
// main.ts under this Node, each on its own loopback address with port 0 (the
// URL is read from the one JSON line a service prints). Every process started
// here is stopped by `close()`, and killed by an exit hook if the bench dies.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startEtcdCluster } from '../harness/etcd-cluster.ts';
import type { EtcdCluster } from '../harness/etcd-cluster.ts';
import { repoRoot } from '../control-plane/cluster.ts';
import { cpuSeconds, procStatusBytes } from './proc.ts';

export type Tier = 'storage' | 'logic' | 'access';

export interface ServiceProcess {
  /** e.g. `storage-0`. */
  readonly name: string;
  readonly tier: Tier;
  readonly pid: number;
  readonly url: string;
  readonly alive: boolean;
  /** The last lines it wrote on stderr (its JSON log). */
  logTail(): string;
  stop(): Promise<void>;
}

export interface StackOptions {
  readonly logicInstances: number;
  readonly accessInstances: number;
  /** --max-concurrency of each tier, when set. */
  readonly maxConcurrency?: Partial<Record<Tier, number>>;
  /** Where services/ is (default: this checkout), e.g. a baseline to compare with. */
  readonly servicesRoot?: string;
  /** NODE_OPTIONS of the service processes (e.g. heap limits), when set. */
  readonly nodeOptions?: string;
  readonly progress: (line: string) => void;
}

export interface Stack {
  readonly etcd: EtcdCluster;
  /** Pids of the etcd members, in campus order (for CPU and RSS). */
  readonly etcdPids: readonly number[];
  readonly services: readonly ServiceProcess[];
  readonly accessUrls: readonly string[];
  readonly storageUrl: string;
  readonly secret: string;
  close(): Promise<void>;
}

const live = new Set<ChildProcess>();
// last resort: no service outlives the bench (etcd-cluster.ts has its own hook)
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/** One service's main.ts as a child process, resolved once it says where it listens. */
async function startService(
  root: string,
  tier: Tier,
  index: number,
  host: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<ServiceProcess> {
  const name = `${tier}-${index}`;
  const child = spawn(
    process.execPath,
    [join(root, 'services', tier, 'main.ts'), '--listen', `${host}:0`, ...args],
    { stdio: ['ignore', 'pipe', 'pipe'], env },
  );
  live.add(child);
  const tail: string[] = [];
  let partial = '';
  child.stderr?.on('data', (d: Buffer) => {
    partial += d.toString();
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    tail.push(...lines);
    if (tail.length > 40) tail.splice(0, tail.length - 40);
  });
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      live.delete(child);
      resolve();
    }),
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not listen within 30 s`)), 30_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"listening":\s*"([^"]+)"/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${name} exited before listening:\n${tail.join('\n')}`));
    });
  }).catch(async (err: unknown) => {
    child.kill('SIGKILL');
    await exited;
    throw err;
  });
  return {
    name,
    tier,
    pid: child.pid ?? 0,
    url,
    get alive() {
      return child.exitCode === null && child.signalCode === null;
    },
    logTail: () => tail.join('\n'),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** The pid of our child etcd member serving `clientUrl` (etcd-cluster.ts keeps its children to itself). */
function etcdPid(clientUrl: string): number | undefined {
  const flag = `--listen-client-urls=${clientUrl}`;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (args.includes(flag)) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/**
 * etcd on 127.0.0.1 (one member per campus), storage, logic and access each on
 * a loopback address of its own campus: 127.16.<campus>.<n>.
 */
export async function startStack(o: StackOptions): Promise<Stack> {
  const secret = randomBytes(32).toString('base64url');
  o.progress('starting a three-member etcd (one member per campus)');
  const etcd = await startEtcdCluster();
  const services: ServiceProcess[] = [];
  const close = async (): Promise<void> => {
    // access first, so nothing new reaches the tiers below while they stop
    for (const tier of ['access', 'logic', 'storage'] as const)
      await Promise.all(services.filter((s) => s.tier === tier).map((s) => s.stop()));
    await etcd.close();
  };
  try {
    const etcdPids: number[] = [];
    for (const url of etcd.endpoints) {
      const pid = etcdPid(url);
      if (pid === undefined) throw new Error(`cannot find the pid of the etcd member at ${url}`);
      etcdPids.push(pid);
    }
    const env = {
      ...process.env,
      YARD_TICKET_SECRET: secret,
      ...(o.nodeOptions !== undefined ? { NODE_OPTIONS: o.nodeOptions } : {}),
    };
    const conc = (t: Tier): string[] =>
      o.maxConcurrency?.[t] !== undefined ? ['--max-concurrency', String(o.maxConcurrency[t])] : [];
    const root = o.servicesRoot ?? repoRoot;
    const storage = await startService(
      root,
      'storage',
      0,
      '127.16.1.5',
      [
        '--etcd-endpoints',
        etcd.endpoints.join(','),
        '--prefix',
        `/yard/bench-im/${randomBytes(3).toString('hex')}/`,
        // scrypt at the minimum: the bench measures messages, not logins
        '--password-cost',
        '1024',
        ...conc('storage'),
      ],
      env,
    );
    services.push(storage);
    const logic = await Promise.all(
      Array.from({ length: o.logicInstances }, (_, i) =>
        startService(
          root,
          'logic',
          i,
          `127.16.${(i % 3) + 1}.6`,
          ['--storage', storage.url, '--instance', `bench-logic-${i}`, ...conc('logic')],
          env,
        ),
      ),
    );
    services.push(...logic);
    const access = await Promise.all(
      Array.from({ length: o.accessInstances }, (_, i) =>
        startService(
          root,
          'access',
          i,
          `127.16.${(i % 3) + 1}.7`,
          ['--logic', logic.map((l) => l.url).join(','), ...conc('access')],
          env,
        ),
      ),
    );
    services.push(...access);
    o.progress(
      `services: ${services.map((s) => `${s.name} ${s.url} (pid ${s.pid})`).join(', ')}; etcd pids ${etcdPids.join(', ')}`,
    );
    return {
      etcd,
      etcdPids,
      services,
      accessUrls: access.map((a) => a.url),
      storageUrl: storage.url,
      secret,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** CPU seconds of a set of pids so far (a gone process counts 0). */
export function cpuOf(pids: readonly number[]): number {
  return pids.reduce((s, pid) => s + (cpuSeconds(pid) ?? 0), 0);
}

export const peakRss = (pid: number): number | undefined => procStatusBytes(pid, 'VmHWM');
