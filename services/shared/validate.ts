// Request bodies are checked field by field before anything is stored: a
// malformed request gets a 400 with a reason and never reaches storage. Each
// helper throws an HttpError naming the field.
import { HttpError } from './http-error.ts';

/** User and group ids: lower-case, short, safe inside etcd keys and URLs. */
export const idPattern = /^[a-z0-9][a-z0-9_-]{0,31}$/;
/** Client-chosen message, payment and moment ids (the idempotency keys). */
export const messageIdPattern = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export const limits = {
  /** JSON bodies larger than this are refused with 413. */
  bodyBytes: 64 * 1024,
  textChars: 4096,
  nameChars: 64,
  passwordChars: 256,
  /** WeChat's group cap grew from 10 to 500. */
  groupMembers: 500,
} as const;

export type Body = Readonly<Record<string, unknown>>;

export function bad(reason: string): HttpError {
  return new HttpError(400, reason);
}

/** The body as an object with only the allowed fields. */
export function object(value: unknown, allowed: readonly string[], what = 'body'): Body {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw bad(`${what} must be a JSON object (send Content-Type: application/json)`);
  }
  const extra = Object.keys(value).filter((k) => !allowed.includes(k));
  if (extra.length > 0) {
    throw bad(
      `${what}: unknown field${extra.length > 1 ? 's' : ''} ${extra.join(', ')} (allowed: ${allowed.join(', ')})`,
    );
  }
  return value as Body;
}

interface StrOptions {
  readonly pattern?: RegExp;
  readonly max?: number;
  readonly min?: number;
}

export function str(o: Body, field: string, opts: StrOptions = {}): string {
  const v = o[field];
  if (typeof v !== 'string') throw bad(`${field} must be a string`);
  return checkStr(v, field, opts);
}

export function optStr(o: Body, field: string, opts: StrOptions = {}): string | undefined {
  return o[field] === undefined ? undefined : str(o, field, opts);
}

function checkStr(v: string, field: string, { pattern, max = 1024, min = 0 }: StrOptions): string {
  if (v.length > max) throw bad(`${field} is longer than ${max} characters`);
  if (v.length < min) throw bad(`${field} is shorter than ${min} characters`);
  if (pattern && !pattern.test(v))
    throw bad(`${field} ${JSON.stringify(v.slice(0, 80))} does not match ${pattern}`);
  return v;
}

export function int(o: Body, field: string, min: number, max: number): number {
  const v = o[field];
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw bad(`${field} must be an integer`);
  if (v < min || v > max) throw bad(`${field} must be between ${min} and ${max}`);
  return v;
}

export function strList(o: Body, field: string, maxItems: number, opts: StrOptions = {}): string[] {
  const v = o[field];
  if (!Array.isArray(v)) throw bad(`${field} must be an array of strings`);
  if (v.length > maxItems) throw bad(`${field} has more than ${maxItems} items`);
  const out = v.map((x, i) => {
    if (typeof x !== 'string') throw bad(`${field}[${i}] must be a string`);
    return checkStr(x, `${field}[${i}]`, opts);
  });
  if (new Set(out).size !== out.length) throw bad(`${field} has duplicates`);
  return out;
}

/** A non-negative integer query parameter (versions, sequence numbers, timeouts). */
export function queryInt(
  v: unknown,
  field: string,
  dflt: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'string' || !/^\d{1,16}$/.test(v))
    throw bad(`${field} must be a non-negative integer`);
  const n = Number(v);
  if (n > max) throw bad(`${field} must be at most ${max}`);
  return n;
}

/** A path segment that must be an id. */
export function pathId(v: unknown, field: string, pattern = idPattern): string {
  if (typeof v !== 'string' || !pattern.test(v)) {
    throw bad(
      `${field} ${JSON.stringify(typeof v === 'string' ? v.slice(0, 80) : '')} is not a valid id (${pattern})`,
    );
  }
  return v;
}
