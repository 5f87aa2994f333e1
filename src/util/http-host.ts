// herd's own HTTP endpoints (the dashboard, Prometheus' /metrics) on their addresses: one server
// per address, shared by every endpoint the file puts there, so `x-herd.dashboard.listen` may name
// the metrics' address and one port answers both (/metrics to Prometheus, the rest to the page).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { HerdError } from './errors.ts';

export interface HostAddress {
  host: string;
  port: number;
}

/** One endpoint on an address. */
export interface HttpMount {
  /** The exact paths it answers; none: every path no other mount names (one such per address). */
  paths?: readonly string[];
  request(req: IncomingMessage, res: ServerResponse): void;
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** What to tell the user when the address cannot be bound; `sibling` is another of herd's own
   * endpoints on the same port but another host (which a shared server cannot be). */
  listenFailed(err: NodeJS.ErrnoException, sibling?: HostAddress): HerdError;
}

interface Host {
  address: HostAddress;
  server: Server;
  mounts: Set<HttpMount>;
  listening: Promise<void>;
}

const keyOf = (a: HostAddress) => `${a.host}|${a.port}`;

export class HttpHosts {
  private readonly hosts = new Map<string, Host>();

  /** Serves `mount` on `address` (opening its server if none is there yet); resolves with what
   * takes it off again, which closes the server once nothing else is on it. */
  async mount(address: HostAddress, mount: HttpMount): Promise<() => Promise<void>> {
    const key = keyOf(address);
    let host = this.hosts.get(key);
    if (host) {
      const clash = [...host.mounts].find((m) => overlaps(m, mount));
      if (clash) throw new Error(`two of herd's endpoints claim the same paths on ${key}`);
      host.mounts.add(mount);
    } else {
      host = this.open(address, mount);
      this.hosts.set(key, host);
    }
    const it = host;
    try {
      await it.listening;
    } catch (err) {
      it.mounts.delete(mount);
      throw err;
    }
    return () => this.unmount(it, mount);
  }

  private open(address: HostAddress, first: HttpMount): Host {
    const mounts = new Set([first]);
    const server = createServer((req, res) => dispatch(mounts, req, res));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const mount = route(mounts, req);
      if (mount?.upgrade) mount.upgrade(req, socket, head);
      else socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    });
    const sibling = [...this.hosts.values()].find(
      (h) => h.address.port === address.port && h.address.host !== address.host,
    )?.address;
    const listening = new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        this.hosts.delete(keyOf(address));
        reject(first.listenFailed(err, err.code === 'EADDRINUSE' ? sibling : undefined));
      });
      server.listen(address.port, address.host, () => resolve());
    });
    return { address, server, mounts, listening };
  }

  private async unmount(host: Host, mount: HttpMount): Promise<void> {
    if (!host.mounts.delete(mount) || host.mounts.size > 0) return;
    if (this.hosts.get(keyOf(host.address)) === host) this.hosts.delete(keyOf(host.address));
    host.server.closeAllConnections();
    await new Promise<void>((resolve) => host.server.close(() => resolve()));
  }
}

function overlaps(a: HttpMount, b: HttpMount): boolean {
  if (!a.paths || !b.paths) return !a.paths && !b.paths;
  return a.paths.some((p) => b.paths!.includes(p));
}

function route(mounts: Set<HttpMount>, req: IncomingMessage): HttpMount | undefined {
  const path = (req.url ?? '/').split('?')[0];
  const all = [...mounts];
  return all.find((m) => m.paths?.includes(path!)) ?? all.find((m) => !m.paths);
}

function dispatch(mounts: Set<HttpMount>, req: IncomingMessage, res: ServerResponse): void {
  const mount = route(mounts, req);
  if (mount) return mount.request(req, res);
  const served = [...mounts].flatMap((m) => m.paths ?? []);
  req.resume();
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end(`herd serves ${served.join(', ')}\n`);
}
