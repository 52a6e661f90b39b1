import { describe, expect, it } from 'vitest';
import { intOption, parseListen, readOptions, required, urlList } from './config.ts';

const known = ['listen', 'etcd-endpoints', 'max-concurrency'];

describe('readOptions', () => {
  it.each([
    {
      name: 'a flag with a separate value',
      argv: ['--listen', '127.16.3.5:8080'],
      env: {},
      want: { listen: '127.16.3.5:8080' },
    },
    { name: 'a flag with =', argv: ['--listen=:9'], env: {}, want: { listen: ':9' } },
    {
      name: 'the environment',
      argv: [],
      env: { YARD_ETCD_ENDPOINTS: 'http://a:1' },
      want: { 'etcd-endpoints': 'http://a:1' },
    },
    {
      name: 'a flag wins over the environment',
      argv: ['--listen', ':2'],
      env: { YARD_LISTEN: ':1' },
      want: { listen: ':2' },
    },
  ])('reads $name', ({ argv, env, want }) => {
    expect(Object.fromEntries(readOptions({ argv, env }, known))).toEqual(want);
  });

  it.each([
    [['--nope', '1'], /unknown flag --nope/],
    [['listen'], /unexpected argument/],
    [['--listen'], /needs a value/],
  ])('refuses %j', (argv, want) => {
    expect(() => readOptions({ argv, env: {} }, known)).toThrow(want);
  });

  it('names the flag and the variable of a missing option', () => {
    expect(() => required(new Map(), 'etcd-endpoints')).toThrow(
      /--etcd-endpoints \(or YARD_ETCD_ENDPOINTS\)/,
    );
  });

  it('checks integers', () => {
    expect(intOption(new Map([['max-concurrency', '8']]), 'max-concurrency', 1)).toBe(8);
    expect(() => intOption(new Map([['max-concurrency', '-1']]), 'max-concurrency', 1)).toThrow(
      /integer/,
    );
  });
});

describe('parseListen and urlList', () => {
  it.each([
    ['127.16.3.5:8080', { host: '127.16.3.5', port: 8080 }],
    [':0', { host: '127.0.0.1', port: 0 }],
  ])('%s', (v, want) => {
    expect(parseListen(v)).toEqual(want);
  });
  it('refuses an address without a port', () => {
    expect(() => parseListen('127.0.0.1')).toThrow(/host:port/);
  });
  it('splits and checks URLs', () => {
    expect(urlList('http://a:1/, http://b:2', 'x')).toEqual(['http://a:1', 'http://b:2']);
    expect(() => urlList('a:1', 'x')).toThrow(/not http/);
  });
});
