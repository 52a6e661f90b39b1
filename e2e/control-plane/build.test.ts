// `cluster:build` when the binaries are missing and cannot be built: the error
// says which part failed and why. Real processes (the CLI, go), no cluster;
// each case uses empty caches of its own so nothing real is touched.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { repoRoot } from './cluster.ts';

const run = promisify(execFile);
const cli = join(repoRoot, 'e2e', 'control-plane', 'cli.ts');
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function build(env: NodeJS.ProcessEnv): Promise<{ code: number; stderr: string }> {
  try {
    await run(process.execPath, [cli, 'build'], { env, timeout: 60_000 });
    return { code: 0, stderr: '' };
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    return { code: e.code ?? -1, stderr: e.stderr ?? '' };
  }
}

async function emptyCache(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'yard-build-'));
  dirs.push(d);
  return d;
}

describe('cluster:build without the binaries', () => {
  it('says that Go is missing and what to do instead', async () => {
    const cache = await emptyCache();
    // PATH holds only node's own folder: no go, no kube binaries
    const { code, stderr } = await build({
      PATH: dirname(process.execPath),
      HOME: cache,
      YARD_CACHE_DIR: cache,
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(/Go is missing/);
    expect(stderr).toMatch(/KUBEBUILDER_ASSETS/);
  });

  it('names the step that failed and shows the tail of the build log', async () => {
    const cache = await emptyCache();
    const { code, stderr } = await build({
      ...process.env,
      KUBEBUILDER_ASSETS: '',
      PATH: [dirname(process.execPath), '/usr/local/go/bin', '/usr/bin', '/bin'].join(':'),
      YARD_CACHE_DIR: cache,
      // no module proxy and an empty module cache: the first download fails at once
      GOPROXY: 'off',
      GOFLAGS: '',
      GOMODCACHE: join(cache, 'gomod'),
      GOCACHE: join(cache, 'gocache'),
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(/control plane build failed at "etcd v3\.6\.16: downloading modules"/);
    expect(stderr).toMatch(/GOPROXY=off/);
  });
});
