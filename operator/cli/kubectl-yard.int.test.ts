// `kubectl yard` against the real API server, in-process and as a real kubectl plugin.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, inject } from 'vitest';
import { findBinaries } from '../../e2e/control-plane/binaries.ts';
import { repoRoot } from '../../e2e/control-plane/cluster.ts';
import { it, kubeConfig } from '../../e2e/harness/kube.ts';
import { ensureYard, readCampus } from '../../e2e/harness/yard.ts';
import { run, UsageError } from './kubectl-yard.ts';

const exec = promisify(execFile);
const now = new Date('2026-11-22T10:00:00Z');

function io() {
  let out = '';
  return { io: { out: (s: string) => void (out += s), now: () => now }, output: () => out };
}

beforeAll(async () => {
  await ensureYard(kubeConfig());
});

describe('kubectl yard', () => {
  const kubeconfig = inject('kubeconfig');

  it('shields a campus with reason, expiry and who, and unshields it', async ({ kube }) => {
    const o = io();
    await run(
      [
        'shield',
        'campus-b',
        '--for',
        '30m',
        '--reason',
        'switch upgrade',
        '--kubeconfig',
        kubeconfig,
      ],
      o.io,
    );
    expect(o.output()).toContain(
      'campus/campus-b shielded until 2026-11-22T10:30:00Z (30m) by yard-admin: switch upgrade',
    );
    expect((await readCampus(kube.kc, 'campus-b')).spec?.shield).toEqual({
      reason: 'switch upgrade',
      until: '2026-11-22T10:30:00Z',
      by: 'yard-admin',
    });
    await run(['unshield', 'campus-b', '--kubeconfig', kubeconfig], o.io);
    expect((await readCampus(kube.kc, 'campus-b')).spec?.shield).toBeUndefined();
  });

  it.each([
    [
      'an unknown campus',
      ['shield', 'campus-z', '--for', '5m', '--reason', 'x'],
      /no campus "campus-z"; campuses: campus-a, campus-b, campus-c/,
    ],
    ['a missing --for', ['shield', 'campus-a', '--reason', 'x'], /needs --for DURATION/],
    ['a missing reason', ['shield', 'campus-a', '--for', '5m'], /needs --reason/],
    [
      'a bad duration',
      ['shield', 'campus-a', '--for', 'soon', '--reason', 'x'],
      /not a duration: "soon"/,
    ],
    ['no campus at all', ['unshield'], /unshield needs a CAMPUS/],
  ])('refuses %s with a message that says what to fix', async (_name, args, want) => {
    const err = await run([...args, '--kubeconfig', kubeconfig], io().io).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(want);
  });

  it('works as a kubectl plugin from bin/ on PATH, and lists campuses in status', async () => {
    const kubectl = (await findBinaries()).kubectl ?? 'kubectl';
    const env = {
      ...process.env,
      PATH: `${join(repoRoot, 'bin')}:${process.env['PATH'] ?? ''}`,
      KUBECONFIG: kubeconfig,
    };
    const { stdout } = await exec(kubectl, ['yard', 'status'], { env, timeout: 30_000 });
    expect(stdout).toMatch(/^CAMPUSES\nNAME\s+NODES/);
    for (const c of ['campus-a', 'campus-b', 'campus-c']) expect(stdout).toContain(c);
    expect(stdout).toContain('IM SERVICES');
  });
});
