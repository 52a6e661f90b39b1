// The README's first command, as a user runs it: `npm run demo` on a cluster
// of its own (not the suite's shared one, whose campuses and queues it would
// change), to its end. It must exit 0 and show what it promises: the backend
// placed by Yard and probed, offline work filling the trough, a surge and a
// shield that evict it, and no message lost.
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { down, repoRoot, startReaper } from './control-plane/cluster.ts';
import { useExistingCluster } from './harness/env.ts';

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
      expect(out).toMatch(/lost 0, duplicates 0/);
      expect(out).not.toMatch(/lost [1-9]/);
    },
    10 * 60_000,
  );
});
