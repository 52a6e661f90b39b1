// The shape every service factory returns: an express app that tests start on
// port 0 in-process and `main` starts on a pod's address.
import type { Express } from 'express';
import type { Registry } from 'prom-client';
import type { Listening, ServiceKit } from './kit.ts';

export interface RunningService {
  readonly url: string;
  /** Stops background work, then the server (in-flight calls are cut). */
  close(): Promise<void>;
}

export interface ServiceApp {
  readonly name: string;
  readonly app: Express;
  readonly registry: Registry;
  listen(host?: string, port?: number): Promise<RunningService>;
}

/** A ServiceApp over a kit, with optional background work started on listen and stopped on close. */
export function serviceApp(
  name: string,
  kit: ServiceKit,
  background: { start?: () => void; stop?: () => Promise<void> } = {},
): ServiceApp {
  return {
    name,
    app: kit.app,
    registry: kit.metrics.registry,
    async listen(host, port) {
      const l: Listening = await kit.listen(host, port);
      background.start?.();
      let closing: Promise<void> | undefined;
      return {
        url: l.url,
        close: () =>
          (closing ??= (async () => {
            await background.stop?.();
            kit.close();
            await l.close();
          })()),
      };
    },
  };
}
