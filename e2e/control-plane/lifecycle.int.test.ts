// The control plane's own life cycle: failures say which part and why and
// leave nothing running; Ctrl-C during `up`; `up` twice; status; stale data;
// the reaper that outlives a killed test run. Each case that starts a cluster
// uses its own folder and ports beside the run's shared one.
import { execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { done, notYet, waitFor } from '../harness/wait.ts';
import { AlreadyRunningError, down, repoRoot, up } from './cluster.ts';
import { StartError } from './process.ts';

const run = promisify(execFile);
const cli = join(repoRoot, 'e2e', 'control-plane', 'cli.ts');
const ownCluster = inject('ownCluster');

/** Pids of every process whose command line mentions `dir`. */
function processesUsing(dir: string): number[] {
  const pids: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8');
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      if (cmd.includes(dir) && !/\) Z /.test(stat)) pids.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

const dirs: string[] = [];
async function scratchDir(): Promise<string> {
  await mkdir(join(repoRoot, '.yard'), { recursive: true });
  const d = await mkdtemp(join(repoRoot, '.yard', 'lifecycle-'));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  for (const d of dirs.splice(0)) await down(d);
});

describe.runIf(ownCluster)('control plane life cycle', () => {
  it('names the part that crashed at start, shows its log, and leaves nothing running', async () => {
    const dir = await scratchDir();
    const err = await up({
      dir,
      nodesPerCampus: 1,
      extraArgs: { 'kube-apiserver': ['--no-such-flag=1'] },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartError);
    expect((err as StartError).component).toBe('kube-apiserver');
    expect((err as Error).message).toMatch(
      /kube-apiserver: exited during start-up[\s\S]*unknown flag: --no-such-flag/,
    );
    expect(processesUsing(dir)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  });

  it('says what already runs when `up` is called twice', async () => {
    const err = await up({ dir: inject('clusterDir') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AlreadyRunningError);
    expect((err as Error).message).toContain((err as AlreadyRunningError).state.server);
  });

  it('reports every component healthy in `status`', async () => {
    const { stdout } = await run(process.execPath, [cli, 'status', '--dir', inject('clusterDir')], {
      timeout: 30_000,
    });
    for (const c of [
      'etcd',
      'kube-apiserver',
      'kube-controller-manager',
      'kube-scheduler',
      'kwok',
    ]) {
      expect(stdout).toMatch(new RegExp(`${c}\\s+pid \\d+\\s+healthy`));
    }
  });

  it('leaves nothing half-started when `up` is interrupted with Ctrl-C', async () => {
    const dir = await scratchDir();
    await rm(dir, { recursive: true });
    const child = spawn(process.execPath, [cli, 'up', '--dir', dir, '--nodes-per-campus', '1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((r) => child.on('close', r));
    await waitFor('`up` to start the API server', () =>
      stderr.includes('starting kube-apiserver') ? done(true) : notYet(stderr),
    );
    expect(processesUsing(dir).length).toBeGreaterThan(0);
    child.kill('SIGINT');
    expect(await exited).not.toBe(0);
    expect(stderr).toContain('interrupted');
    expect(processesUsing(dir)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  });

  it('clears stale data of a dead cluster, and its reaper tears it down when the watched process dies', async () => {
    const dir = await scratchDir();
    // a cluster that died without `down`: state names a process long gone
    await writeFile(
      join(dir, 'state.json'),
      JSON.stringify({
        dir,
        phase: 'running',
        processes: [{ name: 'etcd', pid: 999999, startTime: '1', log: '', args: [] }],
      }),
    );
    await mkdir(join(dir, 'etcd-data', 'member'), { recursive: true });
    const lines: string[] = [];
    const s = await up({ dir, nodesPerCampus: 1, progress: (l) => lines.push(l) });
    expect(lines.join('\n')).toContain('removing stale data');
    expect(s.phase).toBe('running');
    expect(processesUsing(dir).length).toBeGreaterThanOrEqual(5);

    const watched = spawn('sleep', ['60'], { stdio: 'ignore' });
    const reaper = spawn(
      process.execPath,
      [join(repoRoot, 'e2e', 'control-plane', 'reaper.ts'), dir, String(watched.pid)],
      {
        stdio: 'ignore',
        env: { ...process.env, YARD_REAPER_POLL_MS: '100' },
      },
    );
    const reaperExit = new Promise((r) => reaper.on('close', r));
    watched.kill('SIGKILL');
    await reaperExit;
    expect(processesUsing(dir)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  });
});
