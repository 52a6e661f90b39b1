// The built-in test image on its own: a real process on a loopback port.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../control-plane/process.ts';

const script = join(import.meta.dirname, 'echo.ts');
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

async function start(args: string[], env: Record<string, string> = {}) {
  const port = await freePort();
  const child = spawn(process.execPath, [script, ...args], {
    env: {
      PATH: process.env['PATH'] ?? '',
      YARD_LISTEN: `127.0.0.1:${port}`,
      HOSTNAME: 'echo-1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout?.once('data', (d: Buffer) => resolve(d.toString()));
    child.once('exit', () => reject(new Error('echo exited before listening')));
  });
  return { url: `http://127.0.0.1:${port}`, line, exited, child };
}

describe('echo', () => {
  it('says where it listens, answers /healthz and /readyz, and echoes', async () => {
    const e = await start([]);
    expect(JSON.parse(e.line)).toEqual({ service: 'echo', listening: e.url });
    expect((await fetch(`${e.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${e.url}/readyz`)).status).toBe(200);
    const body = (await (
      await fetch(`${e.url}/hello`, { method: 'POST', body: 'hi' })
    ).json()) as Record<string, unknown>;
    expect(body).toEqual({
      pod: 'echo-1',
      pid: e.child.pid,
      method: 'POST',
      path: '/hello',
      body: 'hi',
    });
    expect(await (await fetch(`${e.url}/env`)).json()).toMatchObject({ HOSTNAME: 'echo-1' });
  });

  it('turns /readyz off and on', async () => {
    const e = await start([]);
    await fetch(`${e.url}/readyz?ready=false`, { method: 'POST' });
    expect((await fetch(`${e.url}/readyz`)).status).toBe(503);
    await fetch(`${e.url}/readyz?ready=true`, { method: 'POST' });
    expect((await fetch(`${e.url}/readyz`)).status).toBe(200);
  });

  it('exits with the code it is asked for, on request or after a while', async () => {
    const a = await start([]);
    await fetch(`${a.url}/exit?code=7`, { method: 'POST' });
    expect(await a.exited).toBe(7);
    const b = await start(['--exit-after-ms', '100', '--exit-code', '3']);
    expect(await b.exited).toBe(3);
  });

  it('stops cleanly on SIGTERM', async () => {
    const e = await start([]);
    e.child.kill('SIGTERM');
    expect(await e.exited).toBe(0);
  });
});
