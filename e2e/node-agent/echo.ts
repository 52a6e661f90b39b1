// The agent's built-in test image (registry.local/yard/echo): a tiny HTTP
// server that lets tests exercise the agent without the IM services.
//   GET  /healthz            200
//   GET  /readyz             200, or 503 after POST /readyz?ready=false
//   POST /readyz?ready=B     sets what /readyz answers
//   POST /exit?code=N        answers, then exits with code N
//   GET  /env                its environment, as JSON (what the node agent gave it)
//   anything else            200 with JSON: pod (HOSTNAME), pid, method, path, body
// Options as the services take them: --listen host:port (or YARD_LISTEN),
// --exit-after-ms and --exit-code (or YARD_EXIT_AFTER_MS, YARD_EXIT_CODE).
// Prints {"service":"echo","listening":url} once listening; SIGTERM stops it.
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    listen: { type: 'string' },
    'exit-after-ms': { type: 'string' },
    'exit-code': { type: 'string' },
  },
});
const listen = values.listen ?? process.env['YARD_LISTEN'] ?? '127.0.0.1:8080';
const exitAfter = Number(values['exit-after-ms'] ?? process.env['YARD_EXIT_AFTER_MS'] ?? 0);
const exitCode = Number(values['exit-code'] ?? process.env['YARD_EXIT_CODE'] ?? 0);
const m = /^(.*):(\d+)$/.exec(listen);
if (!m) {
  process.stderr.write(`echo: --listen must be host:port, got ${JSON.stringify(listen)}\n`);
  process.exit(2);
}
const host = m[1] || '127.0.0.1';
const port = Number(m[2]);
let ready = true;

function reply(res: ServerResponse, code: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(code, {
    'Content-Type': typeof body === 'string' ? 'text/plain' : 'application/json',
  });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req) {
    body += String(chunk);
    if (body.length > 65_536) break; // an echo, not a store
  }
  return body;
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://echo');
  const route = `${req.method ?? 'GET'} ${url.pathname}`;
  if (route === 'GET /healthz') return reply(res, 200, 'ok');
  if (route === 'GET /readyz') return reply(res, ready ? 200 : 503, ready ? 'ok' : 'not ready');
  if (route === 'POST /readyz') {
    ready = url.searchParams.get('ready') !== 'false';
    return reply(res, 200, { ready });
  }
  if (route === 'GET /env') return reply(res, 200, process.env);
  if (route === 'POST /exit') {
    const code = Number(url.searchParams.get('code') ?? 0);
    res.on('finish', () => process.exit(code));
    return reply(res, 200, { exiting: code });
  }
  readBody(req).then(
    (body) =>
      reply(res, 200, {
        pod: process.env['HOSTNAME'] ?? '',
        pid: process.pid,
        method: req.method,
        path: url.pathname,
        ...(body ? { body } : {}),
      }),
    () => reply(res, 400, 'unreadable body'),
  );
});
server.listen(port, host, () => {
  process.stdout.write(
    `${JSON.stringify({ service: 'echo', listening: `http://${host}:${port}` })}\n`,
  );
  if (exitAfter > 0) setTimeout(() => process.exit(exitCode), exitAfter);
});
server.on('error', (err) => {
  process.stderr.write(`echo: ${err.message}\n`);
  process.exit(1);
});
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
