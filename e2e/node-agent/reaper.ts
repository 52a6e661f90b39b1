// Kills what a node agent started when the agent dies without stopping them
// (kill -9, a crashed test worker), frozen processes included: the agent
// starts one reaper, detached, and keeps the list of its processes in a file.
//   node e2e/node-agent/reaper.ts <agent-pid> <agent-start-time> <processes.json>
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { procStartTime } from './proc.ts';
import type { TrackedProcess } from './proc.ts';

function killAll(file: string): void {
  let list: TrackedProcess[];
  try {
    list = JSON.parse(readFileSync(file, 'utf8')) as TrackedProcess[];
  } catch {
    return;
  }
  for (const p of list) {
    // a reused pid is somebody else's process: only ours, by start time
    if (procStartTime(p.pid) !== p.startTime) continue;
    try {
      process.kill(-p.pid, 'SIGKILL'); // SIGKILL ends stopped processes too
    } catch {
      // gone meanwhile
    }
  }
}

const [pidText, startTime, file] = process.argv.slice(2);
const agent = Number(pidText);
if (!Number.isInteger(agent) || agent <= 0 || !startTime || !file) {
  process.stderr.write('usage: reaper.ts <agent-pid> <agent-start-time> <processes.json>\n');
  process.exit(2);
}
const pollMs = Number(process.env['YARD_REAPER_POLL_MS'] ?? 500);
for (;;) {
  if (!existsSync(file)) process.exit(0); // the agent stopped cleanly
  if (procStartTime(agent) !== startTime) {
    killAll(file);
    process.exit(0);
  }
  await sleep(pollMs);
}
