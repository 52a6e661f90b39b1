// Structured logs: one JSON object per line on stderr, so the node agent and
// a person reading a pod's log see the same fields.
export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

export type LogSink = (line: string) => void;

export function createLogger(
  service: string,
  sink: LogSink = (l) => process.stderr.write(`${l}\n`),
): Logger {
  const emit =
    (level: 'info' | 'warn' | 'error') =>
    (msg: string, fields: LogFields = {}): void => {
      const rest: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(fields)) rest[k] = v instanceof Error ? v.message : v;
      sink(JSON.stringify({ time: new Date().toISOString(), level, service, msg, ...rest }));
    };
  return { info: emit('info'), warn: emit('warn'), error: emit('error') };
}

/** For tests and libraries that must stay quiet. */
export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };
