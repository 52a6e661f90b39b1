// The scheduler process's flags and environment, as a table.
import { describe, expect, it } from 'vitest';
import { UsageError } from '../runtime/index.ts';
import { parseConfig, usage } from './main.ts';

describe('parseConfig', () => {
  it('defaults: leader-elected on yard-scheduler, port 10251, 48 writes in flight', () => {
    expect(parseConfig([], { POD_NAME: 'yard-scheduler-0' })).toEqual({
      kubeconfig: undefined,
      schedulerName: 'yard',
      leaderElect: true,
      leaseNamespace: 'default',
      leaseName: 'yard-scheduler',
      leaseDurationMs: 15_000,
      identity: 'yard-scheduler-0',
      metricsPort: 10251,
      logLevel: 'info',
      concurrency: 48,
      batchSize: 2000,
      toleratedTaints: [],
    });
  });

  it.each([
    {
      name: 'a flag beats the environment',
      argv: ['--concurrency=8'],
      env: { YARD_CONCURRENCY: '16' },
      want: { concurrency: 8 },
    },
    {
      name: 'the environment beats the default',
      argv: [],
      env: { YARD_CONCURRENCY: '16' },
      want: { concurrency: 16 },
    },
    {
      name: 'the pod’s namespace holds the lease',
      argv: [],
      env: { POD_NAMESPACE: 'yard-system' },
      want: { leaseNamespace: 'yard-system' },
    },
    {
      name: 'leader election off',
      argv: ['--leader-elect=false'],
      env: {},
      want: { leaderElect: false },
    },
    {
      name: 'a lease duration',
      argv: ['--lease-duration=3s'],
      env: {},
      want: { leaseDurationMs: 3000 },
    },
    {
      name: 'the first KUBECONFIG entry',
      argv: [],
      env: { KUBECONFIG: '/a:/b' },
      want: { kubeconfig: '/a' },
    },
    {
      name: 'taints to tolerate',
      argv: ['--tolerate-taints=example.com/gpu, example.com/spot'],
      env: {},
      want: { toleratedTaints: ['example.com/gpu', 'example.com/spot'] },
    },
  ])('$name', ({ argv, env, want }) => {
    expect(parseConfig(argv, env)).toMatchObject(want);
  });

  it.each([
    {
      argv: ['--metrics-port=70000'],
      error: '--metrics-port must be a whole number from 0 to 65535, got "70000"',
    },
    {
      argv: ['--concurrency=0'],
      error: '--concurrency must be a whole number from 1 to 1000, got "0"',
    },
    {
      argv: ['--log-level=loud'],
      error: '--log-level must be debug, info, warn or error, got "loud"',
    },
    {
      argv: ['--lease-duration=soon'],
      error: 'not a duration: "soon" (examples: 30m, 1h30m, 90s)',
    },
  ])('refuses $argv with a message that says what to fix', ({ argv, error }) => {
    expect(() => parseConfig(argv, {})).toThrow(error);
  });
});

describe('the command line', () => {
  it.each([
    { argv: ['--bogus'], error: 'unknown flag --bogus' },
    { argv: ['--concurency=8'], error: 'unknown flag --concurency (did you mean --concurrency?)' },
    { argv: ['--batch-size'], error: '--batch-size needs a value (--batch-size N)' },
    { argv: ['now'], error: 'unexpected argument "now"; this takes only flags' },
  ])('refuses $argv as a usage error (exit 2)', ({ argv, error }) => {
    expect(() => parseConfig(argv, {})).toThrow(UsageError);
    expect(() => parseConfig(argv, {})).toThrow(error);
  });

  it('lists every flag it parses in its usage, with its environment variable', () => {
    for (const flag of ['--scheduler-name NAME', '--concurrency N', '--tolerate-taints K1,K2'])
      expect(usage).toContain(flag);
    expect(usage).toMatch(/--concurrency N .*\(env YARD_CONCURRENCY; default 48\)/);
  });
});
