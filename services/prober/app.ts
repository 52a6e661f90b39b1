// The prober as a small service: runs one prober and serves its report
// (GET /report, JSON) and metrics (GET /metrics) next to /healthz and /readyz
// (ready once the synthetic users exist and traffic runs).
import express from 'express';
import type { Express } from 'express';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { createRegistry } from '../shared/metrics.ts';
import type { RunningService, ServiceApp } from '../shared/service.ts';
import { startProber } from './prober.ts';
import type { Prober, ProberOptions } from './prober.ts';

export function createProberService(
  opts: Omit<ProberOptions, 'registry'> & { defaultMetrics?: boolean },
): ServiceApp & {
  prober(): Prober | undefined;
} {
  const registry: Registry = createRegistry('prober', opts.defaultMetrics ?? false);
  const app: Express = express();
  app.disable('x-powered-by');
  let prober: Prober | undefined;
  let ready = false;
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/readyz', (_req, res) => {
    if (ready) res.json({ ok: true });
    else res.status(503).json({ error: 'synthetic users are being set up' });
  });
  app.get('/report', (_req, res) => {
    if (!prober) res.status(503).json({ error: 'not started' });
    else res.json(prober.report());
  });
  app.get('/metrics', async (_req, res) => {
    res.setHeader('content-type', registry.contentType);
    res.send(await registry.metrics());
  });
  app.use((req, res) => {
    res.status(404).json({ error: `no route ${req.method} ${req.path}` });
  });
  return {
    name: 'prober',
    app,
    registry,
    prober: () => prober,
    async listen(host = '127.0.0.1', port = 0): Promise<RunningService> {
      const server = createServer(app);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      });
      const { defaultMetrics: _unused, ...proberOpts } = opts;
      const p = startProber({ ...proberOpts, registry });
      prober = p;
      p.ready.then(
        () => {
          ready = true;
        },
        () => undefined,
      );
      const addr = server.address() as AddressInfo;
      return {
        url: `http://${addr.address}:${addr.port}`,
        async close() {
          await p.stop();
          await new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          });
        },
      };
    },
  };
}
