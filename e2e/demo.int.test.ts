// The README's first command, as a user runs it: `npm run demo` on a cluster
// of its own (not the suite's shared one, whose campuses and queues it would
// change), to its end. It must exit 0 and show what it promises: the backend
// placed by Yard and probed, offline work filling the trough, a surge and a
// shield that evict it, and no message lost. Afterwards the cluster keeps
// working: the operator, scheduler and node agent still run, the next steps
// it prints work as printed, and `down` stops every process it started.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { down, readState, repoRoot, startReaper } from './control-plane/cluster.ts';
import { isAlive } from './control-plane/process.ts';
import { useExistingCluster } from './harness/env.ts';

const exec = promisify(execFile);

let dir: string | undefined;
afterAll(async () => {
  if (dir) await down(dir);
});

function runDemo(clusterDir: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'e2e', 'demo.ts')], {
      cwd: repoRoot,
      env: { ...process.env, YARD_CLUSTER_DIR: clusterDir, YARD_USE_EXISTING_CLUSTER: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), 8 * 60_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('npm run demo', () => {
  it.skipIf(useExistingCluster() !== undefined)(
    'runs to its end on a fresh cluster and shows every step',
    async () => {
      dir = await mkdtemp(join(tmpdir(), 'yard-demo-'));
      // the cluster goes even if this run is killed
      startReaper(dir);
      const { code, out } = await runDemo(dir);
      expect(code, out.slice(-4000)).toBe(0);
      for (let n = 1; n <= 8; n++) expect(out).toContain(`[${n}/8]`);
      expect(out).toMatch(/every IM service Available and campus-safe, as real processes/);
      expect(out).toMatch(/\d+ dial tests\s+success/);
      expect(out).toMatch(/\d+ offline pods \(\d+ CPUs\) placed by Yard/);
      expect(out).toMatch(/offline pods evicted for it: [1-9]\d*/);
      expect(out).toMatch(/to hold room for campus-a's online load: [1-9]\d*/);
      // the last count, after the shield is lifted: a message late during it is late, not lost
      const counts = [...out.matchAll(/; lost (\d+), duplicates (\d+)/g)].at(-1);
      expect(counts?.slice(1)).toEqual(['0', '0']);
      expect(out).toMatch(/\d+ acknowledged by the server, \d+ delivered/);
      // never silent for long: a wait over 3 s says what it waits for
      expect(out).toMatch(/… waiting for |every IM service Available/);

      // the demo's components outlive it, recorded in the cluster's state
      const state = await readState(dir);
      const components = state?.components ?? [];
      expect(components.map((c) => c.name).sort()).toEqual([
        'node-agent',
        'yard-operator',
        'yard-scheduler',
      ]);
      for (const c of components) expect(isAlive(c), c.name).toBe(true);

      // the next steps work as printed: KUBECONFIG and PATH from the demo's last lines
      const kubeconfig = /export KUBECONFIG=(\S+)/.exec(out)?.[1];
      const path = /export PATH=(\S+):\$PATH/.exec(out)?.[1];
      expect(kubeconfig).toBe(state?.kubeconfig);
      expect(path).toBeDefined();
      const env = {
        ...process.env,
        KUBECONFIG: kubeconfig,
        PATH: `${path}:${process.env['PATH']}`,
      };
      const yard = await exec('kubectl', ['get', 'yard', '-A'], { env, timeout: 60_000 });
      expect(yard.stdout).toMatch(/imservice\.yard\.dev\/im-access/);
      const status = await exec('kubectl', ['yard', 'status'], { env, timeout: 60_000 });
      expect(status.stdout).toContain('campus-a');
      // the components the demo left running hold their leases: nothing is stale
      expect(status.stdout).not.toMatch(/STALE|UNKNOWN|stale:/);
      // the backend still serves: its pods are Ready a while after the demo ended
      const pods = await exec(
        'kubectl',
        [
          'get',
          'pods',
          '-n',
          'im',
          '-l',
          'yard.dev/runtime=process',
          '-o',
          'jsonpath={.items[*].status.conditions[?(@.type=="Ready")].status}',
        ],
        { env, timeout: 60_000 },
      );
      expect(pods.stdout.split(' ').filter((x) => x === 'True').length).toBeGreaterThan(5);

      // down stops all of it and leaves nothing
      await down(dir);
      for (const c of components) expect(isAlive(c), `${c.name} after down`).toBe(false);
      expect(existsSync(dir)).toBe(false);
      dir = undefined;
    },
    10 * 60_000,
  );
});
