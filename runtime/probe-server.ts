// The HTTP endpoints Kubernetes and Prometheus call: /healthz (liveness),
// /readyz (readiness), /metrics. Each probe is a set of named checks, and
// `?verbose` lists them as the API server's own /readyz does, so a failing
// probe says which check failed and why.
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { nullLogger } from './logger.ts';
import type { Logger } from './logger.ts';

/** A check returns undefined when fine, or why it is not. */
export type Check = () => string | undefined;

export interface ProbeServerOptions {
  /** 0 picks a free port. */
  readonly port: number;
  /** Default 0.0.0.0: the kubelet and Prometheus reach the pod's address. */
  readonly host?: string;
  readonly healthz: Readonly<Record<string, Check>>;
  readonly readyz: Readonly<Record<string, Check>>;
  readonly registry: Registry;
  readonly log?: Logger;
}

export interface ProbeServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function serveProbes(opts: ProbeServerOptions): Promise<ProbeServer> {
  const log = opts.log ?? nullLogger;
  const server = createServer((req, res) => {
    handle(opts, req, res).catch((err: unknown) => {
      log.error('probe request failed', { err, path: req.url });
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error\n');
    });
  });
  // keep-alive connections from Prometheus must not hold up shutdown
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  log.info('serving /healthz, /readyz and /metrics', { port });
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(
  opts: ProbeServerOptions,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://probe');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { 'content-type': 'text/plain', allow: 'GET, HEAD' });
    res.end('method not allowed\n');
    return;
  }
  switch (url.pathname) {
    case '/healthz':
    case '/livez':
      return probe(opts.healthz, url, res);
    case '/readyz':
      return probe(opts.readyz, url, res);
    case '/metrics': {
      const body = await opts.registry.metrics();
      res.writeHead(200, { 'content-type': opts.registry.contentType });
      res.end(body);
      return;
    }
    default:
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found: try /healthz, /readyz or /metrics\n');
  }
}

function probe(checks: Readonly<Record<string, Check>>, url: URL, res: ServerResponse): void {
  const results = Object.entries(checks).map(([name, check]) => {
    let why: string | undefined;
    try {
      why = check();
    } catch (err) {
      why = err instanceof Error ? err.message : String(err);
    }
    return { name, why };
  });
  const failed = results.filter((r) => r.why !== undefined);
  const verbose = url.searchParams.has('verbose') || failed.length > 0;
  const lines = verbose
    ? results.map((r) =>
        r.why === undefined ? `[+]${r.name} ok` : `[-]${r.name} failed: ${r.why}`,
      )
    : [];
  const summary = failed.length ? `${url.pathname.slice(1)} check failed` : 'ok';
  res.writeHead(failed.length ? 500 : 200, { 'content-type': 'text/plain; charset=utf-8' });
  res.end([...lines, summary].join('\n') + '\n');
}
