// The agent's control API on loopback, for people and tests (the CLI in
// main.ts calls it):
//   GET  /healthz
//   GET  /metrics  Prometheus: its reconciles and API calls, as controller-runtime and client-go name them
//   GET  /status   the blackholes in force and the nodes they hold, what runs where (pids, states, restarts)
// It sets nothing. A blackhole used to be a call here (POST /blackhole,
// /thaw), which stayed in force when its caller died; it is Campus.spec.blackhole
// now, and the old routes answer 410 Gone saying so.
import { createServer } from 'node:http';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NodeAgent } from './agent.ts';

export type Controlled = Pick<NodeAgent, 'blackholes' | 'pods'> &
  Partial<Pick<NodeAgent, 'registry'>>;

/** Where a blackhole is set now, for the retired routes and commands. */
export const blackholeMoved =
  'a blackhole is Campus.spec.blackhole now, which the agent watches and lifts at its until: kubectl yard blackhole CAMPUS --for 5m --reason "…" (or kubectl patch campus CAMPUS --type merge -p \'{"spec":{"blackhole":{"reason":"…","until":"<RFC 3339>"}}}\'); delete the field to lift it';

function send(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(`${JSON.stringify(body)}\n`);
}

export interface ControlServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function serveControl(
  agent: Controlled,
  host: string,
  port: number,
): Promise<ControlServer> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://agent');
    const route = `${req.method ?? 'GET'} ${url.pathname}`;
    try {
      switch (route) {
        case 'GET /healthz':
          return send(res, 200, { ok: true });
        case 'GET /metrics':
          if (!agent.registry) return send(res, 404, { error: 'this agent keeps no metrics' });
          void agent.registry.metrics().then(
            (text) => {
              res.writeHead(200, { 'Content-Type': agent.registry?.contentType ?? 'text/plain' });
              res.end(text);
            },
            (err: unknown) => send(res, 500, { error: String(err) }),
          );
          return;
        case 'GET /status':
          return send(res, 200, { blackholes: agent.blackholes(), pods: agent.pods() });
        case 'POST /blackhole':
        case 'POST /thaw':
          return send(res, 410, { error: blackholeMoved });
        default:
          return send(res, 404, { error: `no route ${route}` });
      }
    } catch (err) {
      return send(res, 500, { error: err instanceof Error ? err.message : String(err) });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return {
    url: `http://${addr.address}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Asks a running agent for its status; throws with the agent's message on an error. */
export async function callControl(base: string, command: 'status'): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(`${base.replace(/\/$/, '')}/${command}`, {
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new Error(`no node agent answers at ${base} (${cause}); is one running?`, { cause: err });
  }
  const body: unknown = await res.json();
  if (!res.ok) {
    const msg = (body as { error?: unknown } | null)?.error;
    throw new Error(`node agent: ${typeof msg === 'string' ? msg : `HTTP ${res.status}`}`);
  }
  return body;
}
