import { Counter, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { serveProbes } from './probe-server.ts';
import type { ProbeServer } from './probe-server.ts';

let server: ProbeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function get(path: string): Promise<{ status: number; body: string; type: string | null }> {
  const res = await fetch(`http://127.0.0.1:${server?.port}${path}`);
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') };
}

describe('serveProbes', () => {
  it('answers ok when every check passes, and lists them with ?verbose', async () => {
    server = await serveProbes({
      port: 0,
      host: '127.0.0.1',
      registry: new Registry(),
      healthz: { ping: () => undefined },
      readyz: { informers: () => undefined, 'leader-election': () => undefined },
    });
    expect(await get('/healthz')).toMatchObject({ status: 200, body: 'ok\n' });
    expect((await get('/readyz?verbose')).body).toBe(
      '[+]informers ok\n[+]leader-election ok\nok\n',
    );
  });

  it('answers 500 naming the failing check and why', async () => {
    let synced = false;
    server = await serveProbes({
      port: 0,
      host: '127.0.0.1',
      registry: new Registry(),
      healthz: {},
      readyz: { informers: () => (synced ? undefined : 'not synced: pods.v1') },
    });
    const r = await get('/readyz');
    expect(r.status).toBe(500);
    expect(r.body).toContain('[-]informers failed: not synced: pods.v1');
    synced = true;
    expect((await get('/readyz')).status).toBe(200);
  });

  it('serves the registry in Prometheus text format, and 404 elsewhere', async () => {
    const registry = new Registry();
    new Counter({
      name: 'controller_runtime_reconcile_total',
      help: 'h',
      registers: [registry],
    }).inc();
    server = await serveProbes({ port: 0, host: '127.0.0.1', registry, healthz: {}, readyz: {} });
    const m = await get('/metrics');
    expect(m.status).toBe(200);
    expect(m.type).toContain('text/plain');
    expect(m.body).toContain('controller_runtime_reconcile_total 1');
    expect((await get('/nope')).status).toBe(404);
  });
});
