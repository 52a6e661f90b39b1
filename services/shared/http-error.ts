/** An answer other than success, with the reason the caller reads. Thrown by handlers, translated once by the kit. */
export class HttpError extends Error {
  readonly status: number;
  readonly reason: string;
  readonly headers: Readonly<Record<string, string>>;
  constructor(
    status: number,
    reason: string,
    options: { cause?: unknown; headers?: Readonly<Record<string, string>> } = {},
  ) {
    super(reason, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HttpError';
    this.status = status;
    this.reason = reason;
    this.headers = options.headers ?? {};
  }
}
