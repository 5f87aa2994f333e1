// Keeps one IngressServer in step with the config it is given (in the process that serves it: a
// proxy group's ingress process, or this one with a local plane): the same settings keep the
// entries open and swap the routes in; other settings close them and open new ones.
import type { IngressConfig } from '../plane.ts';
import { IngressServer } from './front.ts';

/** Where a listener of this plane is bound, by its id (undefined: no such listener). */
export type ListenerAddress = (id: string) => { host: string; port: number } | undefined;

export class IngressRunner {
  private server?: IngressServer;
  /** The settings the server was opened with (JSON), or undefined when none is open. */
  private opened?: string;
  private pools: Record<string, string> = {};
  /** Applies run one at a time, in the order given. */
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly address: ListenerAddress) {}

  apply(config: IngressConfig | null): Promise<void> {
    const run = this.queue.then(() => this.applyNow(config));
    this.queue = run.catch(() => undefined);
    return run;
  }

  close(): Promise<void> {
    return this.apply(null);
  }

  private async applyNow(config: IngressConfig | null): Promise<void> {
    const settings = config && JSON.stringify(config.settings);
    if (config && this.server && settings === this.opened) {
      this.pools = config.pools;
      this.server.setRoutes(config.routes);
      return;
    }
    // Closed first: the new settings may keep an address of the old ones.
    await this.server?.close();
    this.server = undefined;
    this.opened = undefined;
    if (!config) return;
    this.pools = config.pools;
    const server = new IngressServer(config.settings, config.routes, (service, port) =>
      this.poolAddress(service, port),
    );
    await server.listen();
    this.server = server;
    this.opened = settings!;
  }

  /** Where the balancer serves `service`'s `port` for every replica; a wildcard bind is reached
   * on loopback. */
  private poolAddress(service: string, port: number): { host: string; port: number } | undefined {
    const id = this.pools[`${service}:${port}`];
    const a = id === undefined ? undefined : this.address(id);
    if (!a) return undefined;
    const wildcard = a.host === '0.0.0.0' || a.host === '::' || a.host === '';
    return { host: wildcard ? '127.0.0.1' : a.host, port: a.port };
  }
}
