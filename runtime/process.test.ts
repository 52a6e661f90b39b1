// The shared command-line parser and --help text of every entry point, as tables.
import { describe, expect, it } from 'vitest';
import { flagsHelp, parseCommandLine, UsageError, wantsHelp } from './process.ts';
import type { FlagSpecs } from './process.ts';

const flags = {
  for: { type: 'string', value: 'DURATION', help: 'how long' },
  namespace: { type: 'string', short: 'n', value: 'NS', help: 'where', env: ['YARD_NS'] },
  verbose: { type: 'boolean', help: 'say more', default: 'off' },
} as const satisfies FlagSpecs;

describe('parseCommandLine', () => {
  it.each([
    {
      name: 'a value after a space and after =',
      argv: ['--for', '5m', '--namespace=yard'],
      values: { for: '5m', namespace: 'yard' },
      positionals: [],
    },
    {
      name: 'a short flag, apart or joined',
      argv: ['-n', 'a', 'x', '-nb'],
      values: { namespace: 'b' },
      positionals: ['x'],
    },
    {
      name: 'a boolean flag and positionals in any order',
      argv: ['shield', '--verbose', 'campus-a'],
      values: { verbose: true },
      positionals: ['shield', 'campus-a'],
    },
    {
      name: 'everything after -- is positional, even what looks like a flag',
      argv: ['--', '--for', '-n'],
      values: {},
      positionals: ['--for', '-n'],
    },
    {
      name: 'a value that starts with a dash but not a letter',
      argv: ['--for', '-5m'],
      values: { for: '-5m' },
      positionals: [],
    },
  ])('$name', ({ argv, values, positionals }) => {
    expect(parseCommandLine(argv, flags, { positionals: true })).toEqual({
      values,
      positionals,
      help: false,
    });
  });

  it.each([
    { argv: ['--bogus'], error: 'unknown flag --bogus' },
    { argv: ['--fr', '5m'], error: 'unknown flag --fr (did you mean --for?)' },
    { argv: ['-x'], error: 'unknown flag -x' },
    { argv: ['--for'], error: '--for needs a value (--for DURATION)' },
    { argv: ['--for', '--verbose'], error: '--for needs a value (--for DURATION)' },
    { argv: ['--verbose=yes'], error: '--verbose takes no value (got "yes")' },
    { argv: ['--bogus', '--for'], error: 'unknown flag --bogus; --for needs a value' },
  ])('refuses $argv, saying what to fix', ({ argv, error }) => {
    const parse = (): unknown => parseCommandLine(argv, flags, { positionals: true });
    expect(parse).toThrow(UsageError);
    expect(parse).toThrow(error);
  });

  it('refuses positionals where a command takes only flags', () => {
    expect(() => parseCommandLine(['extra'], flags)).toThrow(
      'unexpected argument "extra"; this takes only flags',
    );
  });

  it.each([
    { argv: ['--help'], help: true },
    { argv: ['-h', '--bogus'], help: true },
    { argv: ['--', '--help'], help: false },
  ])('help in $argv: $help (help wins over other mistakes)', ({ argv, help }) => {
    expect(parseCommandLine(argv, flags, { positionals: true }).help).toBe(help);
    expect(wantsHelp(argv)).toBe(help);
  });
});

describe('flagsHelp', () => {
  it('lists every flag with its value, environment and default, aligned, and -h last', () => {
    expect(flagsHelp(flags)).toBe(
      [
        '      --for DURATION  how long',
        '  -n, --namespace NS  where (env YARD_NS)',
        '      --verbose       say more (default off)',
        '  -h, --help          print this help and exit',
        '',
      ].join('\n'),
    );
  });
});
