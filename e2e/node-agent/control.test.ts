// The control API in-process, over a stand-in agent.
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../control-plane/process.ts';
import type { BlackholeState } from './agent.ts';
import { blackholeMoved, callControl, serveControl } from './control.ts';
import type { Controlled, ControlServer } from './control.ts';

const held: BlackholeState = {
  campuses: [{ campus: 'campus-b', reason: 'drill', by: 'me', until: '2026-12-07T16:00:00Z' }],
  nodes: ['campus-b-node-001'],
};
const agent: Controlled = { blackholes: () => held, pods: () => [] };

let server: ControlServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('the control API', () => {
  it('reports the blackholes in force and the pods', async () => {
    server = await serveControl(agent, '127.0.0.1', 0);
    expect(await callControl(server.url, 'status')).toEqual({ blackholes: held, pods: [] });
  });

  it.each(['/blackhole?campus=campus-b', '/thaw'])(
    'answers POST %s with 410 Gone, naming Campus.spec.blackhole instead',
    async (path) => {
      server = await serveControl(agent, '127.0.0.1', 0);
      const res = await fetch(`${server.url}${path}`, { method: 'POST' });
      expect(res.status).toBe(410);
      expect(await res.json()).toEqual({ error: blackholeMoved });
      expect(blackholeMoved).toContain('Campus.spec.blackhole');
    },
  );

  it('says so when no agent answers', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    await expect(callControl(url, 'status')).rejects.toThrow(
      `no node agent answers at ${url} (ECONNREFUSED); is one running?`,
    );
  });
});
