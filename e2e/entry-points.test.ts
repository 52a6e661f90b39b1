// Every entry point answers --help with its flags (exit 0, on stdout) and an
// unknown flag with its usage (exit 2, on stderr), as a child process: the
// way people and the node agent start them. Nothing here needs a cluster:
// the command line is read before anything connects.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './control-plane/cluster.ts';

const exec = promisify(execFile);
const node = join(repoRoot, 'node_modules', '.bin', 'node');

/** Each entry point, and flags its --help must list. */
const entryPoints = [
  {
    name: 'operator',
    file: 'operator/main.ts',
    flags: ['--kubeconfig PATH', '--install-crds BOOL'],
  },
  { name: 'scheduler', file: 'scheduler/main.ts', flags: ['--lease-name NAME', '--concurrency N'] },
  {
    name: 'node-agent',
    file: 'e2e/node-agent/main.ts',
    flags: ['--node-selector SEL', '--control'],
  },
  { name: 'access', file: 'services/access/main.ts', flags: ['--listen HOST:PORT', '--logic'] },
  {
    name: 'logic',
    file: 'services/logic/main.ts',
    flags: ['--storage URLS|pods:SEL', '--diffusion'],
  },
  {
    name: 'storage',
    file: 'services/storage/main.ts',
    flags: ['--etcd-endpoints URLS', '--kinds'],
  },
  {
    name: 'prober',
    file: 'services/prober/main.ts',
    flags: ['--target URLS|pods:SEL', '--rate N'],
  },
  {
    name: 'kubectl-yard',
    file: 'operator/cli/kubectl-yard.ts',
    flags: ['--for DURATION', '--context NAME'],
  },
] as const;

/** Runs one; its exit code and output, killed after 120 s (seconds normally; minutes on a loaded machine). */
async function start(file: string, args: readonly string[]) {
  try {
    const { stdout, stderr } = await exec(node, [join(repoRoot, file), ...args], {
      cwd: repoRoot,
      timeout: 120_000,
      // no cluster, no secrets: nothing may be reached before the flags are read
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp' },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; signal?: string; stdout?: string; stderr?: string };
    return { code: e.code ?? e.signal ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

// One entry point at a time (its two runs side by side): each loads its
// modules for seconds, and on a loaded 2-core machine more at once only
// queue behind each other.
describe('entry points', () => {
  it.each(entryPoints)(
    '$name: --help prints its flags and exits 0; --bogus prints its usage and exits 2',
    async ({ file, flags }) => {
      const [help, bogus] = await Promise.all([start(file, ['--help']), start(file, ['--bogus'])]);
      expect(help).toMatchObject({ code: 0, stderr: '' });
      expect(help.stdout).toMatch(/^usage: /);
      for (const f of [...flags, '-h, --help']) expect(help.stdout).toContain(f);
      expect(bogus).toMatchObject({ code: 2, stdout: '' });
      expect(bogus.stderr).toMatch(/unknown flag --bogus/);
      // the same usage, after the message that says what was wrong
      expect(bogus.stderr).toContain(help.stdout);
    },
    250_000,
  );
});
