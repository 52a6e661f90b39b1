// Runs one readiness check against a pod's address: HTTP GET (2xx and 3xx
// pass, as for the kubelet; certificates are not verified, as the kubelet does
// not) or a TCP connect. Every check has a deadline.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { Check } from './readiness.ts';

export async function runCheck(check: Check, timeoutMs: number): Promise<boolean> {
  switch (check.kind) {
    case 'none':
      return true;
    case 'invalid':
      return false;
    case 'tcp':
      return tcpCheck(check.host, check.port, timeoutMs);
    case 'http':
      return httpCheck(check, timeoutMs);
  }
}

function tcpCheck(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const finish = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

function httpCheck(check: Extract<Check, { kind: 'http' }>, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const send = check.scheme === 'https' ? httpsRequest : httpRequest;
    const req = send(
      {
        host: check.host,
        port: check.port,
        path: check.path,
        method: 'GET',
        headers: { 'User-Agent': 'yard-node-agent', ...check.headers },
        agent: false,
        rejectUnauthorized: false,
        signal: AbortSignal.timeout(timeoutMs),
      },
      (res) => {
        res.resume();
        const code = res.statusCode ?? 0;
        resolve(code >= 200 && code < 400);
      },
    );
    req.once('error', () => resolve(false));
    req.end();
  });
}
