// The caller side against real sockets: a blackholed endpoint (accepts, never
// answers) and a dead one are ejected and traffic continues on the healthy
// one; a shed answer is never retried, and a learned admission level keeps
// requests from being sent at all.
import { createServer as createHttpServer } from 'node:http';
import type { Server as HttpServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headers } from './kit.ts';
import { level } from './priority.ts';
import { createUpstream, staticEndpoints } from './upstream.ts';

let healthy: HttpServer;
let shedding: HttpServer;
let blackhole: NetServer;
let urls: { healthy: string; shedding: string; blackhole: string; dead: string };
const hits = { healthy: 0, shedding: 0, blackholeConnections: 0 };
const sockets = new Set<Socket>();

const listen = (s: HttpServer | NetServer): Promise<string> =>
  new Promise((resolve) =>
    s.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(s.address() as AddressInfo).port}`),
    ),
  );

beforeAll(async () => {
  healthy = createHttpServer((_req, res) => {
    hits.healthy++;
    res.setHeader('content-type', 'application/json');
    res.end('{"ok":true}');
  });
  shedding = createHttpServer((_req, res) => {
    hits.shedding++;
    res.statusCode = 503;
    res.setHeader(headers.shed, 'moments');
    // admits only payments (levels below 128)
    res.setHeader(headers.admissionLevel, '128');
    res.end('{"error":"shed moments"}');
  });
  blackhole = createNetServer((socket) => {
    hits.blackholeConnections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const dead = createNetServer();
  urls = {
    healthy: await listen(healthy),
    shedding: await listen(shedding),
    blackhole: await listen(blackhole),
    dead: await listen(dead),
  };
  await new Promise<void>((r) => dead.close(() => r()));
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  healthy.closeAllConnections();
  shedding.closeAllConnections();
  await Promise.all(
    [healthy, shedding, blackhole].map((s) => new Promise<void>((r) => s.close(() => r()))),
  );
});

const policy = {
  consecutiveFailures: 3,
  baseEjectionMs: 30_000,
  maxEjectionMs: 60_000,
  maxEjectionPercent: 67,
};

describe('upstream', () => {
  it('ejects a blackholed and a dead endpoint and keeps every idempotent call succeeding', async () => {
    const registry = new Registry();
    const up = createUpstream({
      name: 'logic',
      endpoints: staticEndpoints([urls.blackhole, urls.dead, urls.healthy]),
      timeoutMs: 200,
      outlier: policy,
      // two bad endpoints of three: a call may meet both before the good one
      retries: 2,
      registry,
    });
    const results = [];
    for (let i = 0; i < 30; i++)
      results.push(await up.call({ method: 'GET', path: '/x', idempotent: true }));
    expect(results.every((r) => r.kind === 'response' && r.status === 200)).toBe(true);
    const state = Object.fromEntries(up.state().map((s) => [s.endpoint, s.ejected]));
    expect(state).toEqual({ [urls.blackhole]: true, [urls.dead]: true, [urls.healthy]: false });
    const connectionsAtEjection = hits.blackholeConnections;
    const later = [];
    for (let i = 0; i < 20; i++)
      later.push(await up.call({ method: 'GET', path: '/x', idempotent: true }));
    expect(later.every((r) => r.kind === 'response' && r.status === 200)).toBe(true);
    expect(hits.blackholeConnections).toBe(connectionsAtEjection);
    const ejections = (
      await registry.getSingleMetricAsString('yard_upstream_ejections_total')
    ).match(/ (\d+)$/m);
    expect(Number(ejections?.[1])).toBe(2);
  });

  it('does not retry a call that is not idempotent', async () => {
    const up = createUpstream({
      name: 'logic',
      endpoints: staticEndpoints([urls.blackhole, urls.healthy]),
      timeoutMs: 150,
      outlier: policy,
    });
    const before = hits.healthy;
    const results = await Promise.all(
      [0, 1].map(() => up.call({ method: 'POST', path: '/register', body: {}, idempotent: false })),
    );
    // round robin: one call went to the blackhole and timed out, with no second attempt
    expect(results.map((r) => r.kind).sort()).toEqual(['response', 'unavailable']);
    expect(hits.healthy - before).toBe(1);
  });

  it('never retries a shed request, and sheds before sending once it knows the level', async () => {
    const up = createUpstream({
      name: 'logic',
      endpoints: staticEndpoints([urls.shedding]),
      outlier: policy,
    });
    const before = hits.shedding;
    const moments = level('moments', 5);
    const first = await up.call({ method: 'GET', path: '/m', idempotent: true, level: moments });
    expect(first).toMatchObject({ kind: 'response', status: 503, shed: 'moments' });
    expect(hits.shedding - before).toBe(1);
    // the answer announced the level: Moments are not sent again
    expect(
      await up.call({ method: 'GET', path: '/m', idempotent: true, level: moments }),
    ).toMatchObject({ kind: 'shed' });
    expect(hits.shedding - before).toBe(1);
    // payments still go
    await up.call({ method: 'GET', path: '/p', idempotent: true, level: level('payment', 5) });
    expect(hits.shedding - before).toBe(2);
    // and shedding is not a failure: the busy endpoint is not ejected
    expect(up.state()[0]?.ejected).toBe(false);
  });
});
