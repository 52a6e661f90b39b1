// `kubectl yard` against the real API server, in-process and as a real
// kubectl plugin and child process (exit codes, stderr, a closed pipe).
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, inject } from 'vitest';
import { findBinaries } from '../../e2e/control-plane/binaries.ts';
import { repoRoot } from '../../e2e/control-plane/cluster.ts';
import { it, kubeConfig } from '../../e2e/harness/kube.ts';
import { ensureYard, readCampus } from '../../e2e/harness/yard.ts';
import { microTime } from '../../runtime/clock.ts';
import type { Lease } from '../../runtime/leader-election.ts';
import { kinds } from '../../runtime/resource.ts';
import { RestClient } from '../../runtime/rest.ts';
import { NoSuchCampusError, run, UsageError } from './kubectl-yard.ts';

const exec = promisify(execFile);
const now = new Date('2026-11-22T10:00:00Z');
const node = join(repoRoot, 'node_modules', '.bin', 'node');
const plugin = join(repoRoot, 'operator', 'cli', 'kubectl-yard.ts');
// a child process loads client-node for seconds; minutes on a loaded machine
const processTimeoutMs = 240_000;

function io() {
  let out = '';
  let err = '';
  return {
    io: {
      out: (s: string) => void (out += s),
      err: (s: string) => void (err += s),
      now: () => now,
    },
    output: () => out,
    errors: () => err,
  };
}

/** A Lease in `namespace` as a component would leave it, renewed `agoS` before the tests' now. */
async function lease(
  rest: RestClient,
  namespace: string,
  name: string,
  spec: { holder: string; agoS: number },
): Promise<void> {
  const body: Lease = {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace },
    spec: {
      holderIdentity: spec.holder,
      leaseDurationSeconds: 15,
      renewTime: microTime(now.getTime() - spec.agoS * 1000),
    },
  };
  await rest.create(kinds.Lease, body);
}

/** The plugin as a child process: its exit code, stdout and stderr, bounded in time. */
async function cli(
  args: readonly string[],
  kubeconfig: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(node, [plugin, ...args], {
      env: { ...process.env, KUBECONFIG: kubeconfig },
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

beforeAll(async () => {
  await ensureYard(kubeConfig());
});

describe('kubectl yard', () => {
  const kubeconfig = inject('kubeconfig');

  it('shields a campus with reason, expiry and who, and unshields it', async ({ kube, ns }) => {
    const o = io();
    const where = ['--kubeconfig', kubeconfig, '-n', ns];
    await run(['unshield', 'campus-b', ...where], o.io);
    await run(['shield', 'campus-b', '--for', '30m', '--reason', 'switch upgrade', ...where], o.io);
    expect(o.output()).toContain(
      'campus/campus-b shielded until 2026-11-22T10:30:00Z (30m) by yard-admin: switch upgrade',
    );
    expect((await readCampus(kube.kc, 'campus-b')).spec?.shield).toEqual({
      reason: 'switch upgrade',
      until: '2026-11-22T10:30:00Z',
      by: 'yard-admin',
    });
    await run(['unshield', 'campus-b', ...where], o.io);
    expect(o.output()).toContain(
      'campus/campus-b unshielded (was until 2026-11-22T10:30:00Z (30m left) by yard-admin: switch upgrade)',
    );
    expect((await readCampus(kube.kc, 'campus-b')).spec?.shield).toBeUndefined();
  });

  it('says so when a campus to unshield or unblackhole is not blocked, and writes nothing', async ({
    kube,
    ns,
  }) => {
    const where = ['--kubeconfig', kubeconfig, '-n', ns];
    await run(['unshield', 'campus-c', ...where], io().io);
    const before = (await readCampus(kube.kc, 'campus-c')).metadata.resourceVersion;
    const o = io();
    await run(['unshield', 'campus-c', ...where], o.io);
    await run(['unblackhole', 'campus-c', ...where], o.io);
    expect(o.output()).toBe(
      'campus/campus-c is not shielded; nothing to do\ncampus/campus-c is not blackholed; nothing to do\n',
    );
    expect((await readCampus(kube.kc, 'campus-c')).metadata.resourceVersion).toBe(before);
  });

  it('blackholes a campus, shows it in status, and lifts it', async ({ kube, ns }) => {
    const where = ['--kubeconfig', kubeconfig, '-n', ns];
    const o = io();
    await run(
      [
        'blackhole',
        'campus-a',
        '--for',
        '5m',
        '--reason',
        'drill rehearsal',
        '--by',
        'ann',
        ...where,
      ],
      o.io,
    );
    expect(o.output()).toBe(
      'campus/campus-a blackholed until 2026-11-22T10:05:00Z (5m) by ann: drill rehearsal\n',
    );
    expect(o.errors()).toContain('the node agent on each of campus-a');
    expect((await readCampus(kube.kc, 'campus-a')).spec?.blackhole).toEqual({
      reason: 'drill rehearsal',
      until: '2026-11-22T10:05:00Z',
      by: 'ann',
    });
    const s = io();
    await run(['status', ...where], s.io);
    expect(s.output()).toMatch(
      /\ncampus-a .*until 2026-11-22T10:05:00Z \(5m left\) by ann: drill rehearsal\n/,
    );
    await run(['unblackhole', 'campus-a', ...where], o.io);
    expect(o.output()).toContain('campus/campus-a unblackholed (was until 2026-11-22T10:05:00Z');
    expect((await readCampus(kube.kc, 'campus-a')).spec?.blackhole).toBeUndefined();
  });

  it('warns when no operator holds its lease, and not when one does', async ({ ns }) => {
    const rest = new RestClient(kubeConfig());
    const shieldB = [
      'shield',
      'campus-b',
      '--for',
      '1m',
      '--reason',
      'x',
      '--kubeconfig',
      kubeconfig,
      '-n',
      ns,
    ];
    const unshieldB = ['unshield', 'campus-b', '--kubeconfig', kubeconfig, '-n', ns];
    try {
      const none = io();
      await run(shieldB, none.io);
      expect(none.output()).toContain('campus/campus-b shielded');
      expect(none.errors()).toBe(
        `warning: no operator runs (Lease ${ns}/yard-operator: nobody (no lease: never ran here)); ` +
          'nothing taints its nodes or takes its pods out of traffic until one does ' +
          '(or, if Yard runs in another namespace, pass -n NAMESPACE)\n',
      );
      await lease(rest, ns, 'yard-operator', { holder: 'op-gone', agoS: 75 });
      const expired = io();
      await run(unshieldB, expired.io);
      expect(expired.errors()).toContain(
        `no operator runs (Lease ${ns}/yard-operator: nobody (lease expired 1m ago, was op-gone)); ` +
          'its nodes keep their taint and its pods stay out of traffic until one does',
      );
      await rest.delete(kinds.Lease, ns, 'yard-operator');
      await lease(rest, ns, 'yard-operator', { holder: 'op-0', agoS: 2 });
      const held = io();
      await run(shieldB, held.io);
      expect(held.errors()).toBe('');
      const st = io();
      await run(['status', '--kubeconfig', kubeconfig, '-n', ns], st.io);
      expect(st.output().split('\n').slice(0, 3)).toEqual([
        `LEASES (${ns})  operator: op-0 (renewed 2s ago)  scheduler: nobody (no lease: never ran here)`,
        'STALE: no scheduler runs, so pods of schedulerName yard stay Pending and capacity numbers are as the last one left them',
        '',
      ]);
      expect(st.output()).toContain('\nCAMPUSES\n');
    } finally {
      await run(unshieldB, io().io);
    }
  });

  it.each([
    ['a missing --for', ['shield', 'campus-a', '--reason', 'x'], /needs --for DURATION/],
    ['a missing reason', ['shield', 'campus-a', '--for', '5m'], /needs --reason/],
    [
      'a bad duration',
      ['shield', 'campus-a', '--for', 'soon', '--reason', 'x'],
      /not a duration: "soon"/,
    ],
    ['no campus at all', ['unshield'], /unshield needs a CAMPUS/],
    ['an unknown context', ['status', '--context', 'nope'], /no context "nope" in the kubeconfig/],
  ])('refuses %s as a usage error', async (_name, args, want) => {
    const err = await run([...args, '--kubeconfig', kubeconfig], io().io).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(want);
  });

  it('fails on an unknown campus, naming the campuses there are', async () => {
    const args = ['shield', 'campus-z', '--for', '5m', '--reason', 'x', '--kubeconfig', kubeconfig];
    const err = await run(args, io().io).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoSuchCampusError);
    expect((err as Error).message).toBe(
      'no campus "campus-z"; campuses: campus-a, campus-b, campus-c',
    );
  });

  it(
    'as a process: exit 2 with the usage for usage errors, 1 for failures, 0 when done',
    async () => {
      const [bogus, noCampus, unknown, version] = await Promise.all([
        cli(['status', '--bogus'], kubeconfig),
        cli(['shield'], kubeconfig),
        cli(['unshield', 'campus-z'], kubeconfig),
        cli(['version'], kubeconfig),
      ]);
      expect(bogus).toMatchObject({ code: 2, stdout: '' });
      expect(bogus.stderr).toMatch(/^error: unknown flag --bogus\n\nusage: kubectl yard <command>/);
      expect(noCampus.code).toBe(2);
      expect(noCampus.stderr).toContain('error: shield needs a CAMPUS');
      expect(unknown).toEqual({
        code: 1,
        stdout: '',
        stderr: 'error: no campus "campus-z"; campuses: campus-a, campus-b, campus-c\n',
      });
      expect(version).toEqual({
        code: 0,
        stdout: 'kubectl-yard 0.1.0 (yard.dev/v1alpha1)\n',
        stderr: '',
      });
    },
    processTimeoutMs,
  );

  it(
    'stops quietly when its reader goes away (`kubectl yard status | head -1`)',
    async () => {
      const child = spawn(node, [plugin, 'status'], {
        env: { ...process.env, KUBECONFIG: kubeconfig },
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 120_000,
      });
      // the reader is gone before the first write: every write meets EPIPE
      child.stdout.destroy();
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(stderr).toBe('');
      expect(code).toBe(0);
    },
    processTimeoutMs,
  );

  it(
    'works as a kubectl plugin from bin/ on PATH, and lists campuses in status',
    async () => {
      const kubectl = (await findBinaries()).kubectl ?? 'kubectl';
      const env = {
        ...process.env,
        PATH: `${join(repoRoot, 'bin')}:${process.env['PATH'] ?? ''}`,
        KUBECONFIG: kubeconfig,
      };
      const { stdout } = await exec(kubectl, ['yard', 'status'], { env, timeout: 60_000 });
      expect(stdout).toMatch(
        /^LEASES \(default\) {2}operator: .*\n(.*\n)*CAMPUSES.*\nNAME\s+NODES/,
      );
      for (const c of ['campus-a', 'campus-b', 'campus-c']) expect(stdout).toContain(c);
      expect(stdout).toContain('IM SERVICES');
    },
    processTimeoutMs,
  );
});
