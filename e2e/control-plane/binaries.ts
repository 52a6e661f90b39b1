import { execFile, spawn } from 'node:child_process';
import { access, constants, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { logTail } from './process.ts';
import { binCacheDir, cacheRoot, components, expectedVersion, versions } from './versions.ts';
import type { Component } from './versions.ts';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));

export type Binaries = Readonly<Record<Component, string>>;
export type Progress = (line: string) => void;

/** Which build of build-binaries.sh produces a component. */
const buildGroup: Record<Component, 'etcd' | 'kwok' | 'kubernetes'> = {
  etcd: 'etcd',
  kwok: 'kwok',
  'kube-apiserver': 'kubernetes',
  'kube-controller-manager': 'kubernetes',
  'kube-scheduler': 'kubernetes',
  kubectl: 'kubernetes',
};

async function executable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The version a binary reports, or undefined when it cannot say. */
export async function reportedVersion(c: Component, path: string): Promise<string | undefined> {
  const args = c === 'kubectl' ? ['version', '--client'] : ['--version'];
  try {
    const { stdout } = await run(path, args, { timeout: 10_000 });
    return parseVersion(c, stdout);
  } catch {
    return undefined;
  }
}

/** Pure: pulls the version out of what `--version` printed. */
export function parseVersion(c: Component, out: string): string | undefined {
  const patterns: Record<Component, RegExp> = {
    etcd: /etcd Version: (\S+)/,
    kwok: /kwok version (v\S+)/,
    'kube-apiserver': /Kubernetes (v\S+)/,
    'kube-controller-manager': /Kubernetes (v\S+)/,
    'kube-scheduler': /Kubernetes (v\S+)/,
    kubectl: /Client Version: (v\S+)/,
  };
  return patterns[c].exec(out)?.[1];
}

/** Folders searched in order: KUBEBUILDER_ASSETS, PATH, then Yard's cache. */
export function searchDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs: string[] = [];
  if (env['KUBEBUILDER_ASSETS']) dirs.push(env['KUBEBUILDER_ASSETS']);
  dirs.push(...(env['PATH'] ?? '').split(delimiter).filter(Boolean));
  dirs.push(binCacheDir(env));
  return dirs;
}

/** Finds every component at its pinned version; missing ones are absent from the result. */
export async function findBinaries(
  env: NodeJS.ProcessEnv = process.env,
): Promise<Partial<Record<Component, string>>> {
  const found: Partial<Record<Component, string>> = {};
  const dirs = searchDirs(env);
  await Promise.all(
    components.map(async (c) => {
      for (const dir of dirs) {
        const path = join(dir, c);
        if (!(await executable(path))) continue;
        if ((await reportedVersion(c, path)) === expectedVersion(c)) {
          found[c] = path;
          return;
        }
      }
    }),
  );
  return found;
}

async function goVersion(): Promise<string> {
  try {
    const { stdout } = await run('go', ['env', 'GOVERSION'], { timeout: 30_000 });
    return stdout.trim();
  } catch (err) {
    throw new Error(
      'control plane: Go is missing, and the binaries are not on KUBEBUILDER_ASSETS or PATH at the pinned versions ' +
        `(Kubernetes ${versions.kubernetes}, etcd ${versions.etcd}, kwok ${versions.kwok}). ` +
        'Install Go 1.25 or newer (https://go.dev/dl) so Yard can build them, or point KUBEBUILDER_ASSETS at a folder that has them.',
      { cause: err },
    );
  }
}

/** One build at a time per machine: a lock folder holding the builder's pid. */
async function withBuildLock<T>(progress: Progress, fn: () => Promise<T>): Promise<T> {
  const lock = join(cacheRoot(), 'build.lock');
  await mkdir(cacheRoot(), { recursive: true });
  let waited = false;
  for (;;) {
    try {
      await mkdir(lock);
      await writeFile(join(lock, 'pid'), String(process.pid));
      break;
    } catch {
      const holder = Number(await readFile(join(lock, 'pid'), 'utf8').catch(() => '0'));
      let alive = false;
      try {
        if (holder > 0) {
          process.kill(holder, 0);
          alive = true;
        }
      } catch {
        alive = false;
      }
      if (!alive) {
        await rm(lock, { recursive: true, force: true });
        continue;
      }
      if (!waited) progress(`another build (pid ${holder}) is running; waiting for it`);
      waited = true;
      await sleep(2000);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

function fmtDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

async function runBuild(groups: readonly string[], progress: Progress): Promise<void> {
  const out = binCacheDir();
  await mkdir(out, { recursive: true });
  const logPath = join(cacheRoot(), 'build.log');
  const log = createWriteStream(logPath);
  const started = Date.now();
  let step = 'starting';
  let stepStarted = started;
  let downloads = 0;
  progress(`building ${groups.join(', ')} with ${await goVersion()} into ${out} (log: ${logPath})`);
  const child = spawn('bash', [join(here, 'build-binaries.sh'), ...groups], {
    env: {
      ...process.env,
      OUT: out,
      K8S_VERSION: versions.kubernetes,
      ETCD_VERSION: versions.etcd,
      KWOK_VERSION: versions.kwok,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const onLine = (line: string): void => {
    log.write(line + '\n');
    if (line.startsWith('==> ')) {
      step = line.slice(4);
      stepStarted = Date.now();
      progress(`[${fmtDuration(Date.now() - started)}] ${step}`);
    } else if (line.startsWith('go: downloading')) {
      downloads++;
    } else if (line.startsWith('    ')) {
      progress(line.trim());
    }
  };
  let carry = '';
  const onData = (chunk: Buffer): void => {
    const lines = (carry + chunk.toString()).split('\n');
    carry = lines.pop() ?? '';
    lines.forEach(onLine);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const ticker = setInterval(() => {
    const dl = downloads > 0 ? `, ${downloads} modules downloaded so far` : '';
    progress(
      `[${fmtDuration(Date.now() - started)}] still at: ${step} (${fmtDuration(Date.now() - stepStarted)}${dl})`,
    );
  }, 30_000);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  }).finally(() => clearInterval(ticker));
  if (carry) onLine(carry);
  await new Promise<void>((resolve) => log.end(resolve));
  if (code !== 0) {
    throw new Error(
      `control plane build failed at "${step}" (exit ${code}). Last lines of ${logPath}:\n${logTail(logPath, 30)}`,
    );
  }
  progress(`built in ${fmtDuration(Date.now() - started)}`);
}

/**
 * Every binary of the local control plane at its pinned version: found on
 * KUBEBUILDER_ASSETS or PATH, or in the cache, or built once into the cache.
 */
export async function ensureBinaries(progress: Progress = () => {}): Promise<Binaries> {
  let found = await findBinaries();
  const missing = components.filter((c) => !found[c]);
  if (missing.length > 0) {
    progress(
      `not found at the pinned versions: ${missing.join(', ')}; building them once (about 10-15 minutes on 2 cores)`,
    );
    await withBuildLock(progress, async () => {
      // another process may have built them while we waited for the lock
      found = await findBinaries();
      const still = components.filter((c) => !found[c]);
      if (still.length === 0) return;
      const groups = [...new Set(still.map((c) => buildGroup[c]))];
      await runBuild(groups, progress);
      found = await findBinaries();
    });
  }
  const stillMissing = components.filter((c) => !found[c]);
  if (stillMissing.length > 0) {
    throw new Error(
      `control plane: after building, these still do not report their pinned versions: ${stillMissing
        .map((c) => `${c} (want ${expectedVersion(c)})`)
        .join(', ')}. See ${join(cacheRoot(), 'build.log')}`,
    );
  }
  return found as Binaries;
}
