import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { jsonLogger } from './logger.ts';

function capture(level?: 'debug' | 'info' | 'warn' | 'error') {
  const lines: string[] = [];
  const log = jsonLogger({
    write: (l) => lines.push(l),
    now: () => new Date('2026-01-01T00:00:00.000Z'),
    ...(level ? { level } : {}),
  });
  return { log, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('jsonLogger', () => {
  it('writes one JSON object per line: time, level, msg, then context', () => {
    const { log, lines, parsed } = capture();
    log.child({ controller: 'campus' }).info('reconciled', { key: 'campus-a', ms: 12 });
    expect(lines[0]?.endsWith('\n')).toBe(true);
    expect(lines[0]?.trim().includes('\n')).toBe(false);
    expect(parsed()).toEqual([
      {
        time: '2026-01-01T00:00:00.000Z',
        level: 'info',
        msg: 'reconciled',
        controller: 'campus',
        key: 'campus-a',
        ms: 12,
      },
    ]);
    expect(Object.keys(parsed()[0] ?? {}).slice(0, 3)).toEqual(['time', 'level', 'msg']);
  });

  it('drops lines below its level', () => {
    const { log, parsed } = capture('warn');
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(parsed().map((l) => l['level'])).toEqual(['warn', 'error']);
  });

  it('writes errors with their message, code and cause chain', () => {
    const { log, parsed } = capture();
    const err = Object.assign(new Error('patch failed', { cause: new Error('connection reset') }), {
      code: 409,
    });
    log.error('reconcile failed', { err });
    expect(parsed()[0]?.['err']).toEqual({
      name: 'Error',
      message: 'patch failed',
      code: 409,
      cause: { name: 'Error', message: 'connection reset' },
    });
  });

  it("keeps client-node's API errors to their code and message, without body or headers", () => {
    const { log, parsed } = capture();
    const err = new ApiException(
      409,
      'Operation cannot be fulfilled: the object has been modified',
      { kind: 'Status', code: 409 },
      { 'audit-id': 'x', 'content-type': 'application/json' },
    );
    log.error('write failed', { err });
    expect(parsed()[0]?.['err']).toEqual({
      name: 'Error',
      message: 'HTTP 409: Operation cannot be fulfilled: the object has been modified',
      code: 409,
    });
  });

  it('does not let context overwrite time, level or msg', () => {
    const { log, parsed } = capture();
    log.info('real', { msg: 'fake', level: 'error', time: 'never' });
    expect(parsed()[0]).toMatchObject({
      msg: 'real',
      level: 'info',
      time: '2026-01-01T00:00:00.000Z',
    });
  });
});
