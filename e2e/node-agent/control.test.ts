// The control API in-process, over a stand-in agent that records its calls.
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../control-plane/process.ts';
import type { BlackholeState, BlackholeTarget } from './agent.ts';
import { callControl, serveControl, targetOf } from './control.ts';
import type { Controlled, ControlServer } from './control.ts';

function recorder(): Controlled & { calls: string[] } {
  const calls: string[] = [];
  const state = (t?: BlackholeTarget): BlackholeState => ({ targets: t ? [t] : [], nodes: [] });
  return {
    calls,
    blackhole(t) {
      calls.push(`blackhole ${JSON.stringify(t)}`);
      if ('campus' in t && t.campus === 'campus-z')
        throw new Error('blackhole: no simulated node in campus campus-z');
      return state(t);
    },
    thaw(t) {
      calls.push(`thaw ${JSON.stringify(t ?? null)}`);
      return state();
    },
    blackholes: () => state(),
    pods: () => [],
  };
}

let server: ControlServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('targetOf', () => {
  it.each([
    ['campus=campus-b', { campus: 'campus-b' }],
    ['node=campus-a-node-001', { node: 'campus-a-node-001' }],
    ['', undefined],
    ['campus=a&node=b', { error: 'name a campus or a node, not both' }],
  ])('%j', (q, want) => {
    expect(targetOf(new URLSearchParams(q))).toEqual(want);
  });
});

describe('the control API', () => {
  it('blackholes and thaws through the agent, and reports status', async () => {
    const agent = recorder();
    server = await serveControl(agent, '127.0.0.1', 0);
    expect(await callControl(server.url, 'blackhole', { campus: 'campus-b' })).toEqual({
      targets: [{ campus: 'campus-b' }],
      nodes: [],
    });
    await callControl(server.url, 'thaw', { node: 'campus-b-node-002' });
    await callControl(server.url, 'thaw');
    expect(await callControl(server.url, 'status')).toEqual({
      blackholes: { targets: [], nodes: [] },
      pods: [],
    });
    expect(agent.calls).toEqual([
      'blackhole {"campus":"campus-b"}',
      'thaw {"node":"campus-b-node-002"}',
      'thaw null',
    ]);
  });

  it("passes the agent's refusal on, and refuses a blackhole with no target", async () => {
    server = await serveControl(recorder(), '127.0.0.1', 0);
    await expect(callControl(server.url, 'blackhole', { campus: 'campus-z' })).rejects.toThrow(
      'node agent: blackhole: no simulated node in campus campus-z',
    );
    const res = await fetch(`${server.url}/blackhole`, { method: 'POST' });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'blackhole needs ?campus=C or ?node=N' });
  });

  it('says so when no agent answers', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    await expect(callControl(url, 'status')).rejects.toThrow(
      `no node agent answers at ${url} (ECONNREFUSED); is one running?`,
    );
  });
});
