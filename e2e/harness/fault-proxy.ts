// A TCP proxy in front of the API server that breaks the network on
// command, for integration tests of watch recovery: it is not a fake of the
// API (every byte comes from the real API server), only of a bad network.
// TLS passes through untouched.
//
// - breakAll():   resets every open connection (a dropped watch);
// - freezeAll():  stops forwarding on every open connection but keeps it
//                 open (a half-open connection: the silent stall);
// - down()/up():  resets everything and refuses new connections until up
//                 (what clients see of an API server restart).
import { connect, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
}

export class FaultProxy {
  readonly #target: { readonly host: string; readonly port: number };
  readonly #pairs = new Set<Pair>();
  #server: Server | undefined;
  #port = 0;

  private constructor(target: URL) {
    this.#target = { host: target.hostname, port: Number(target.port || 443) };
  }

  /** Starts a proxy to `server` (an https:// URL) on a free loopback port. */
  static async start(server: string): Promise<FaultProxy> {
    const p = new FaultProxy(new URL(server));
    await p.up();
    return p;
  }

  get port(): number {
    return this.#port;
  }

  /** Open client connections. */
  get connections(): number {
    return this.#pairs.size;
  }

  /** A copy of `kc` whose current cluster is reached through this proxy. */
  kubeConfig(kc: KubeConfig): KubeConfig {
    const current = kc.getCurrentCluster();
    if (!current) throw new Error('the kubeconfig has no current cluster');
    const copy = new KubeConfig();
    copy.loadFromOptions({
      clusters: kc.clusters.map((c) =>
        c.name === current.name ? { ...c, server: `https://127.0.0.1:${this.#port}` } : c,
      ),
      contexts: kc.contexts,
      users: kc.users,
      currentContext: kc.currentContext,
    });
    return copy;
  }

  breakAll(): void {
    for (const p of this.#pairs) {
      p.client.resetAndDestroy();
      p.upstream.destroy();
    }
    this.#pairs.clear();
  }

  /** Silences every open connection; new ones work normally. */
  freezeAll(): void {
    for (const p of this.#pairs) {
      p.client.unpipe(p.upstream);
      p.upstream.unpipe(p.client);
      p.client.pause();
      p.upstream.pause();
    }
  }

  async down(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    this.breakAll();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Listens (again, on the same port once it had one). */
  async up(): Promise<void> {
    if (this.#server) return;
    const server = createServer((client) => this.#accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => resolve());
    });
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  async close(): Promise<void> {
    await this.down();
  }

  #accept(client: Socket): void {
    const upstream = connect(this.#target.port, this.#target.host);
    const pair: Pair = { client, upstream };
    this.#pairs.add(pair);
    const end = (): void => {
      this.#pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
