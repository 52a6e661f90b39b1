// A three-member etcd cluster on free loopback ports, one member per campus,
// for tests of the storage tier: the binary of the pinned version (found or
// built once by e2e/control-plane), data in a temporary folder, fast raft
// timers, no fsync (the data is thrown away). Only tests import this file.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureBinaries, findBinaries } from '../control-plane/binaries.ts';
import { freePort, logTail } from '../control-plane/process.ts';

export const campuses = ['campus-a', 'campus-b', 'campus-c'] as const;

export interface EtcdMember {
  readonly name: string;
  readonly campus: string;
  readonly clientUrl: string;
  readonly log: string;
  running(): boolean;
}

export interface EtcdCluster {
  /** Client URLs, one per member, in campus order. */
  readonly endpoints: readonly string[];
  readonly members: readonly EtcdMember[];
  /** The index of the current raft leader. */
  leader(): Promise<number>;
  /** Kills a member at once (a campus lost), as SIGKILL. */
  kill(i: number): Promise<void>;
  /** Starts a stopped member again on its data. */
  restart(i: number): Promise<void>;
  close(): Promise<void>;
}

async function etcdBinary(): Promise<string> {
  const found = (await findBinaries()).etcd;
  return found ?? (await ensureBinaries((l) => process.stderr.write(`etcd: ${l}\n`))).etcd;
}

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
    const body = (await res.json()) as { health?: string };
    return res.ok && body.health === 'true';
  } catch {
    return false;
  }
}

const live = new Set<ChildProcess>();
// last resort when a test run dies without afterAll: no member outlives it
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export async function startEtcdCluster(): Promise<EtcdCluster> {
  const bin = await etcdBinary();
  const dir = mkdtempSync(join(tmpdir(), 'yard-etcd-'));
  const ports = await Promise.all(
    campuses.map(async () => ({ client: await freePort(), peer: await freePort() })),
  );
  const names = campuses.map((c) => `etcd-${c}`);
  const initial = names.map((n, i) => `${n}=http://127.0.0.1:${ports[i]?.peer ?? 0}`).join(',');
  const procs: (ChildProcess | undefined)[] = campuses.map(() => undefined);
  const members = campuses.map((campus, i): EtcdMember => {
    const p = ports[i] ?? { client: 0, peer: 0 };
    return {
      name: names[i] ?? '',
      campus,
      clientUrl: `http://127.0.0.1:${p.client}`,
      log: join(dir, `${names[i] ?? i}.log`),
      running: () => procs[i] !== undefined,
    };
  });

  const start = (i: number): void => {
    const m = members[i];
    const p = ports[i];
    if (!m || !p) throw new Error(`no member ${i}`);
    const fd = openSync(m.log, 'a');
    const child = spawn(
      bin,
      [
        `--name=${m.name}`,
        `--data-dir=${join(dir, m.name)}`,
        `--listen-client-urls=${m.clientUrl}`,
        `--advertise-client-urls=${m.clientUrl}`,
        `--listen-peer-urls=http://127.0.0.1:${p.peer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${p.peer}`,
        `--initial-cluster=${initial}`,
        '--initial-cluster-state=new',
        '--initial-cluster-token=yard-im-test',
        // loopback "campuses": fast raft timers, so a lost leader is replaced within a second
        '--heartbeat-interval=50',
        '--election-timeout=500',
        // a group of 500 writes its membership in one transaction
        '--max-txn-ops=1024',
        '--unsafe-no-fsync',
        '--log-level=warn',
      ],
      { stdio: ['ignore', fd, fd] },
    );
    closeSync(fd);
    live.add(child);
    procs[i] = child;
    child.once('exit', () => {
      live.delete(child);
      if (procs[i] === child) procs[i] = undefined;
    });
  };

  const stop = async (i: number, signal: NodeJS.Signals): Promise<void> => {
    const child = procs[i];
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const deadline = Date.now() + 5000;
    while (procs[i] === child && Date.now() < deadline) await Promise.race([exited, sleep(100)]);
    if (procs[i] === child) child.kill('SIGKILL');
    await Promise.race([exited, sleep(2000)]);
  };

  const waitHealthy = async (idx: readonly number[]): Promise<void> => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const states = await Promise.all(idx.map((i) => healthy(members[i]?.clientUrl ?? '')));
      if (states.every(Boolean)) return;
      const dead = idx.find((i) => procs[i] === undefined);
      if (dead !== undefined || Date.now() > deadline) {
        const m = members[dead ?? idx[0] ?? 0];
        throw new Error(
          `etcd member ${m?.name} did not become healthy. Last lines of ${m?.log}:\n${logTail(m?.log ?? '')}`,
        );
      }
      await sleep(100);
    }
  };

  const all = campuses.map((_, i) => i);
  try {
    all.forEach(start);
    await waitHealthy(all);
  } catch (err) {
    await Promise.all(all.map((i) => stop(i, 'SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  return {
    endpoints: members.map((m) => m.clientUrl),
    members,
    kill: (i) => stop(i, 'SIGKILL'),
    async leader() {
      for (let attempt = 0; attempt < 50; attempt++) {
        for (const m of members) {
          if (!m.running()) continue;
          try {
            const res = await fetch(`${m.clientUrl}/v3/maintenance/status`, {
              method: 'POST',
              body: '{}',
              signal: AbortSignal.timeout(1000),
            });
            const s = (await res.json()) as { leader?: string; header?: { member_id?: string } };
            if (!s.leader || s.leader === '0') continue;
            // ask each member who it is, to map the leader's id to an index
            for (const [i, other] of members.entries()) {
              if (!other.running()) continue;
              const r = await fetch(`${other.clientUrl}/v3/maintenance/status`, {
                method: 'POST',
                body: '{}',
              });
              const o = (await r.json()) as { header?: { member_id?: string } };
              if (o.header?.member_id === s.leader) return i;
            }
          } catch {
            // not answering: ask the next member
          }
        }
        await sleep(100);
      }
      throw new Error('etcd: no leader');
    },
    async restart(i) {
      if (procs[i]) return;
      start(i);
      await waitHealthy([i]);
    },
    async close() {
      // the data is thrown away: no graceful leader hand-over (which waits for peers that are stopping too)
      await Promise.all(all.map((i) => stop(i, 'SIGKILL')));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
