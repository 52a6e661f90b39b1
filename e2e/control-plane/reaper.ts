// Watches one process (a test runner) and tears down a cluster folder when it
// dies, however it dies (Ctrl-C, kill -9, a crash): the harness starts one
// per test cluster, detached, so no control plane outlives its test run.
//   node e2e/control-plane/reaper.ts <cluster-dir> <watched-pid>
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { down } from './cluster.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const [dir, pidText] = process.argv.slice(2);
const watched = Number(pidText);
if (!dir || !Number.isInteger(watched) || watched <= 0) {
  process.stderr.write('usage: reaper.ts <cluster-dir> <watched-pid>\n');
  process.exit(2);
}
const pollMs = Number(process.env['YARD_REAPER_POLL_MS'] ?? 1000);
for (;;) {
  if (!existsSync(dir)) process.exit(0); // torn down normally
  if (!alive(watched)) {
    await down(dir);
    process.exit(0);
  }
  await sleep(pollMs);
}
