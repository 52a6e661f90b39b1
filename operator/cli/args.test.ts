// `kubectl yard`'s command line, as a table: what each line asks for, and
// what each mistake says (a UsageError: exit 2).
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../runtime/process.ts';
import { parseYardArgs, usage } from './args.ts';

const env = {};

describe('parseYardArgs', () => {
  it.each([
    {
      name: 'a shield with its duration, reason and who',
      argv: ['shield', 'campus-a', '--for', '30m', '--reason', 'switch upgrade', '--by', 'ann'],
      command: {
        kind: 'shield',
        campus: 'campus-a',
        forMs: 1_800_000,
        reason: 'switch upgrade',
        by: 'ann',
      },
    },
    {
      name: 'a blackhole, flags before the command',
      argv: ['--for=5m', '--reason', 'drill', 'blackhole', 'campus-b'],
      command: {
        kind: 'blackhole',
        campus: 'campus-b',
        forMs: 300_000,
        reason: 'drill',
        by: undefined,
      },
    },
    {
      name: 'unshield',
      argv: ['unshield', 'campus-c'],
      command: { kind: 'unshield', campus: 'campus-c' },
    },
    {
      name: 'unblackhole',
      argv: ['unblackhole', 'campus-c'],
      command: { kind: 'unblackhole', campus: 'campus-c' },
    },
    { name: 'status', argv: ['status'], command: { kind: 'status' } },
    { name: 'version', argv: ['version'], command: { kind: 'version' } },
    { name: 'help as a command', argv: ['help'], command: { kind: 'help' } },
    {
      name: '--help wins over a mistake',
      argv: ['shield', '--bogus', '-h'],
      command: { kind: 'help' },
    },
  ])('$name', ({ argv, command }) => {
    expect(parseYardArgs(argv, env).command).toEqual(command);
  });

  it.each([
    {
      name: 'flags over the environment over defaults',
      argv: ['status', '--kubeconfig', '/k', '--context', 'c2', '-n', 'yard-system'],
      env: { KUBECONFIG: '/a:/b', YARD_LEASE_NAMESPACE: 'other' },
      target: { kubeconfig: '/k', context: 'c2', namespace: 'yard-system' },
    },
    {
      name: 'the first KUBECONFIG entry and the lease namespace of the environment',
      argv: ['status'],
      env: { KUBECONFIG: '/a:/b', YARD_LEASE_NAMESPACE: 'yard-system' },
      target: { kubeconfig: '/a', context: undefined, namespace: 'yard-system' },
    },
    {
      name: 'the defaults: the default chain, and the operator’s default lease namespace',
      argv: ['status', '--namespace=default'],
      env: {},
      target: { kubeconfig: undefined, context: undefined, namespace: 'default' },
    },
  ])('$name', ({ argv, env: e, target }) => {
    expect(parseYardArgs(argv, e).target).toEqual(target);
  });

  it.each([
    { argv: [], error: 'a command is needed' },
    { argv: ['sheild', 'campus-a'], error: 'unknown command "sheild"' },
    { argv: ['status', '--bogus'], error: 'unknown flag --bogus' },
    {
      argv: ['shield', 'campus-a', '--fro', '5m'],
      error: 'unknown flag --fro (did you mean --for?)',
    },
    { argv: ['status', '--for', '5m'], error: 'status takes no --for' },
    { argv: ['unshield', 'campus-a', '--reason', 'x'], error: 'unshield takes no --reason' },
    { argv: ['unshield'], error: 'unshield needs a CAMPUS (e.g. kubectl yard unshield campus-a)' },
    {
      argv: ['unshield', 'campus-a', 'campus-b'],
      error: 'unexpected argument "campus-b" after unshield',
    },
    { argv: ['status', 'campus-a'], error: 'unexpected argument "campus-a" after status' },
    {
      argv: ['shield', 'campus-a', '--reason', 'x'],
      error: 'shield needs --for DURATION (e.g. --for 30m)',
    },
    {
      argv: ['blackhole', 'campus-a', '--for', '5m'],
      error: 'blackhole needs --reason TEXT saying why',
    },
    {
      argv: ['shield', 'campus-a', '--for', '5m', '--reason', '  '],
      error: 'shield needs --reason TEXT',
    },
    {
      argv: ['shield', 'campus-a', '--for', 'soon', '--reason', 'x'],
      error: '--for: not a duration: "soon"',
    },
    {
      argv: ['shield', 'campus-a', '--for', '0s', '--reason', 'x'],
      error: '--for must be longer than 0s',
    },
    { argv: ['shield', 'campus-a', '--for'], error: '--for needs a value (--for DURATION)' },
    { argv: ['status', '-n'], error: '-n needs a value (-n NS)' },
  ])('refuses $argv: "$error"', ({ argv, error }) => {
    const parse = (): unknown => parseYardArgs(argv, env);
    expect(parse).toThrow(UsageError);
    expect(parse).toThrow(error);
  });

  it('documents every command and flag it takes in its usage', () => {
    for (const word of [
      'shield CAMPUS',
      'unshield CAMPUS',
      'blackhole CAMPUS',
      'unblackhole CAMPUS',
    ]) {
      expect(usage).toContain(word);
    }
    for (const flag of [
      '--for DURATION',
      '--reason TEXT',
      '--by NAME',
      '--kubeconfig PATH',
      '--context NAME',
      '-n, --namespace NS',
    ]) {
      expect(usage).toContain(flag);
    }
    expect(usage).toContain('0 done, 1 failed');
  });
});
