// `promtool check metrics`: Prometheus's own linter of the exposition format
// (Debian's `prometheus` package ships it). Tests pipe each component's real
// /metrics text through it.
import { spawn, spawnSync } from 'node:child_process';

/** The promtool on PATH, or undefined. In CI (CI=true) its absence is an error, never a skip. */
export function findPromtool(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const found = spawnSync('promtool', ['--version'], { stdio: 'ignore' });
  if (found.error === undefined && found.status === 0) return 'promtool';
  if (env['CI'] === 'true') {
    throw new Error(
      'promtool is not installed, and CI must run the metrics lint: apt-get install prometheus (.ci/run does)',
    );
  }
  return undefined;
}

export interface PromtoolResult {
  readonly ok: boolean;
  /** What promtool said: one problem per line ("<metric> <what is wrong>"). */
  readonly problems: readonly string[];
}

/** Runs `promtool check metrics` on `text` (bounded: 20 s). */
export function checkMetrics(text: string, promtool = 'promtool'): Promise<PromtoolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(promtool, ['check', 'metrics'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: 20_000,
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal) return reject(new Error(`promtool check metrics: killed by ${signal}`));
      const problems = out.split('\n').filter((l) => l.trim() !== '');
      resolve({ ok: code === 0, problems });
    });
    child.stdin.end(text);
  });
}
