// Real processes, no cluster: the supervisor pieces the control plane uses.
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  assertPortFree,
  freePort,
  isAlive,
  startDetached,
  stopProcess,
  waitHealthy,
} from './process.ts';
import type { ProcessRecord } from './process.ts';

let dir = '';
const started: ProcessRecord[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'yard-proc-'));
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => stopProcess(p, 500)));
  await rm(dir, { recursive: true, force: true });
});

async function waitForFile(path: string): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const text = await readFile(path, 'utf8').catch(() => '');
    if (text.trim()) return Number(text.trim());
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${path} never appeared`);
}

function pidAlive(pid: number): boolean {
  try {
    // a zombie still answers kill 0; it has stopped running all the same
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

const sh = (name: string, script: string): ProcessRecord => {
  const p = startDetached(name, '/bin/sh', ['-c', script], join(dir, `${name}.log`));
  started.push(p);
  return p;
};

describe('waitHealthy', () => {
  it('fails at once with the log tail when the process dies during start-up', async () => {
    const p = sh('crasher', 'echo "flag provided but not defined: -bogus"; exit 3');
    await expect(waitHealthy(p, () => Promise.resolve(false), 10_000)).rejects.toThrow(
      /crasher: exited during start-up\. Last lines of .*crasher\.log:\nflag provided but not defined: -bogus/,
    );
  });

  it('says what the probe last saw when the deadline passes', async () => {
    const p = sh('slow', 'echo starting; sleep 30');
    await expect(
      waitHealthy(p, () => Promise.reject(new Error('connection refused')), 600),
    ).rejects.toThrow(
      /slow: not healthy after 0\.6s \(last probe: connection refused\).*\nstarting/s,
    );
  });

  it('returns once the probe succeeds', async () => {
    const p = sh('ok', 'sleep 30');
    let calls = 0;
    await waitHealthy(p, () => Promise.resolve(++calls >= 2), 5000);
    expect(calls).toBe(2);
  });
});

describe('stopProcess', () => {
  it('stops a process that honours SIGTERM', async () => {
    const p = sh('polite', 'sleep 30');
    expect(isAlive(p)).toBe(true);
    await stopProcess(p, 2000);
    expect(isAlive(p)).toBe(false);
  });

  it('escalates to SIGKILL when SIGTERM is ignored, and takes the children too', async () => {
    const childPidFile = join(dir, 'child.pid');
    const p = sh('stubborn', `trap '' TERM; sleep 30 & echo $! > ${childPidFile}; wait`);
    const childPid = await waitForFile(childPidFile);
    await stopProcess(p, 300);
    expect(isAlive(p)).toBe(false);
    expect(pidAlive(childPid)).toBe(false);
  });

  it('does not touch a reused pid (start time differs)', async () => {
    const p = sh('victim', 'sleep 30');
    await stopProcess({ ...p, startTime: '1' }, 100);
    expect(isAlive(p)).toBe(true);
  });
});

describe('ports', () => {
  it('names the component and the port when a fixed port is taken', async () => {
    const port = await freePort();
    const srv = createServer().listen(port, '127.0.0.1');
    await new Promise((r) => srv.once('listening', r));
    try {
      await expect(assertPortFree(port, 'kube-apiserver')).rejects.toThrow(
        `kube-apiserver: port 127.0.0.1:${port} is taken (EADDRINUSE)`,
      );
    } finally {
      srv.close();
    }
    await expect(assertPortFree(port, 'kube-apiserver')).resolves.toBeUndefined();
  });
});
