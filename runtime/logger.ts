// Structured logs: one JSON object per line with `time`, `level`, `msg`, then
// context such as `controller` and `key`. No dependency: log shippers read
// JSON lines, and people read them with `jq`.

export const logLevels = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof logLevels)[number];
export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line (e.g. `{ controller: 'campus' }`). */
  child(fields: LogFields): Logger;
}

export interface JsonLoggerOptions {
  readonly level?: LogLevel;
  /** Where lines go (default: stderr, so stdout stays free for command output). */
  readonly write?: (line: string) => void;
  readonly now?: () => Date;
  readonly fields?: LogFields;
}

const reserved = new Set(['time', 'level', 'msg']);

export function isLogLevel(s: string | undefined): s is LogLevel {
  return (logLevels as readonly string[]).includes(s ?? '');
}

export function jsonLogger(opts: JsonLoggerOptions = {}): Logger {
  const min = logLevels.indexOf(opts.level ?? 'info');
  const write = opts.write ?? ((line: string) => void process.stderr.write(line));
  const now = opts.now ?? (() => new Date());
  const make = (base: LogFields): Logger => {
    const log =
      (level: LogLevel) =>
      (msg: string, fields?: LogFields): void => {
        if (logLevels.indexOf(level) < min) return;
        const line: Record<string, unknown> = { time: now().toISOString(), level, msg };
        for (const [k, v] of Object.entries({ ...base, ...fields })) {
          if (!reserved.has(k) && v !== undefined) line[k] = serialise(v);
        }
        write(`${safeStringify(line, now)}\n`);
      };
    return {
      debug: log('debug'),
      info: log('info'),
      warn: log('warn'),
      error: log('error'),
      child: (fields) => make({ ...base, ...fields }),
    };
  };
  return make(opts.fields ?? {});
}

/** Drops everything: for tests that do not look at logs. */
export const nullLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => nullLogger,
};

/** Errors become `{ name, message, code?, cause? }`: JSON.stringify would give `{}`. */
function serialise(v: unknown, depth = 0): unknown {
  if (!(v instanceof Error)) return v;
  const out: Record<string, unknown> = { name: v.name, message: oneLine(v.message) };
  const code = (v as { code?: unknown }).code;
  if (typeof code === 'number' || typeof code === 'string') out['code'] = code;
  if (v.cause !== undefined && depth < 5) out['cause'] = serialise(v.cause, depth + 1);
  return out;
}

/**
 * client-node's ApiException folds the response's whole body and headers
 * into its message ("HTTP-Code: 409\nMessage: …\nBody: …\nHeaders: …"):
 * keep the code and the message.
 */
function oneLine(message: string): string {
  const m = /^HTTP-Code: (\d+)\nMessage: ([^\n]*)/.exec(message);
  return m ? `HTTP ${m[1]}: ${m[2]}` : message;
}

function safeStringify(v: unknown, now: () => Date): string {
  try {
    return JSON.stringify(v);
  } catch {
    return JSON.stringify({ time: now().toISOString(), level: 'error', msg: 'unloggable' });
  }
}
