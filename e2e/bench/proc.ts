// What Linux says about a process in /proc: its memory and its CPU time.
// Benchmarks sample these for processes they did not start (the control
// plane's) as well as their own, so they read /proc rather than ask Node.
import { readFileSync } from 'node:fs';

/** A `VmXxx: N kB` field of /proc/<pid>/status in bytes (VmHWM: peak RSS), or undefined. */
export function procStatusBytes(pid: number, field: 'VmHWM' | 'VmRSS'): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined; // gone, or not Linux
  }
}

// USER_HZ: the unit of utime and stime; 100 on every Linux Node runs on
const ticksPerSecond = 100;

/** User + system CPU seconds the process has used so far, or undefined. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name may hold spaces and parentheses: fields start after the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return undefined;
  }
}
