// The agent's control API on loopback, for drills and people (the CLI in
// main.ts calls it):
//   GET  /healthz
//   GET  /status                        what is frozen, and what runs where (pids, states, restarts)
//   POST /blackhole?campus=C | ?node=N  freezes a campus or a node
//   POST /thaw[?campus=C | ?node=N]     lifts one blackhole, or all
import { createServer } from 'node:http';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BlackholeTarget, NodeAgent } from './agent.ts';

export type Controlled = Pick<NodeAgent, 'blackhole' | 'thaw' | 'blackholes' | 'pods'>;

/** The target named by `campus` or `node` (exactly one), none, or why the query is wrong. */
export function targetOf(q: URLSearchParams): BlackholeTarget | undefined | { error: string } {
  const campus = q.get('campus');
  const node = q.get('node');
  if (campus && node) return { error: 'name a campus or a node, not both' };
  if (campus) return { campus };
  if (node) return { node };
  return undefined;
}

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
    const target = targetOf(url.searchParams);
    if (target && 'error' in target) return send(res, 400, { error: target.error });
    try {
      switch (route) {
        case 'GET /healthz':
          return send(res, 200, { ok: true });
        case 'GET /status':
          return send(res, 200, { blackholes: agent.blackholes(), pods: agent.pods() });
        case 'POST /blackhole':
          if (!target) return send(res, 400, { error: 'blackhole needs ?campus=C or ?node=N' });
          return send(res, 200, agent.blackhole(target));
        case 'POST /thaw':
          return send(res, 200, agent.thaw(target));
        default:
          return send(res, 404, { error: `no route ${route}` });
      }
    } catch (err) {
      return send(res, 404, { error: err instanceof Error ? err.message : String(err) });
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

export type ControlCommand = 'blackhole' | 'thaw' | 'status';

/** Calls a running agent's control API; throws with the agent's message on an error. */
export async function callControl(
  base: string,
  command: ControlCommand,
  target?: BlackholeTarget,
): Promise<unknown> {
  const q = target ? `?${new URLSearchParams(target).toString()}` : '';
  const [method, path] = command === 'status' ? ['GET', '/status'] : ['POST', `/${command}${q}`];
  let res: Response;
  try {
    res = await fetch(`${base.replace(/\/$/, '')}${path}`, {
      method,
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
