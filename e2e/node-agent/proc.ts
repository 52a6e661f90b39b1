// Processes by pid and start time (/proc/<pid>/stat), so that a pid the
// kernel gave to another process since is never mistaken for one of ours.
import { spawn } from 'node:child_process';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { procStartTime } from '../control-plane/process.ts';

export { procStartTime };

export interface TrackedProcess {
  readonly pid: number;
  readonly startTime: string;
}

/** The processes an agent runs, written where its reaper reads them. */
export class ProcessList {
  readonly #file: string;
  readonly #live = new Map<number, string>();
  #reaper: number | undefined;

  constructor(file: string) {
    this.#file = file;
    this.#write();
  }

  /** Starts the reaper: it kills the listed processes if this process dies first. */
  startReaper(): void {
    const self = procStartTime(process.pid);
    if (self === undefined) return; // no /proc: nothing to watch with
    const script = join(dirname(fileURLToPath(import.meta.url)), 'reaper.ts');
    const child = spawn(process.execPath, [script, String(process.pid), self, this.#file], {
      detached: true,
      stdio: 'ignore',
    });
    child.unref();
    this.#reaper = child.pid;
  }

  add(pid: number): void {
    const t = procStartTime(pid);
    if (t === undefined) return;
    this.#live.set(pid, t);
    this.#write();
  }

  delete(pid: number): void {
    if (this.#live.delete(pid)) this.#write();
  }

  /** Removes the list (the reaper then exits) and stops the reaper. */
  close(): void {
    rmSync(this.#file, { force: true });
    if (this.#reaper !== undefined) {
      try {
        process.kill(this.#reaper, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  }

  #write(): void {
    const list: TrackedProcess[] = [...this.#live].map(([pid, startTime]) => ({ pid, startTime }));
    const tmp = `${this.#file}.tmp`;
    writeFileSync(tmp, JSON.stringify(list));
    renameSync(tmp, this.#file);
  }
}
