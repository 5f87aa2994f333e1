// The ingress: one shared HTTP entry and one HTTPS entry (HTTP/2 and HTTP/1.1 by ALPN) that route
// requests by host and path to the services' pools. Certificates come from the user's files
// (chosen by SNI) or from herd's local CA, issued for routed hosts as they are first asked for.
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { IngressSettings, TlsPair } from '../../compose/ingress-settings.ts';
import type { ListenAddress } from '../../compose/listen-address.ts';
import type { Route } from '../../compose/routes.ts';
import { HerdError } from '../../util/errors.ts';
import { LocalCA } from './ca.ts';
import { Forwarder, type Resolve } from './forward.ts';
import { RouteTable, normalizeHost } from './table.ts';

/** The name certificates are issued for when a client sends no SNI (or an unrouted one). */
const FALLBACK_NAME = 'localhost';

export class IngressServer {
  private table: RouteTable;
  private http?: Server;
  private https?: Http2SecureServer;
  private readonly forwarders: Forwarder[] = [];
  private readonly contexts = new Map<string, SecureContext>();
  private ca?: LocalCA;

  constructor(
    private readonly settings: IngressSettings,
    routes: Route[],
    private readonly resolve: Resolve,
  ) {
    this.table = new RouteTable(routes);
  }

  /** A new file's routes, swapped in whole: requests under way keep the table they started with. */
  setRoutes(routes: Route[]): void {
    this.table = new RouteTable(routes);
  }

  async listen(): Promise<void> {
    const { http, https, tls } = this.settings;
    if (tls === 'internal') this.ca = LocalCA.open();
    try {
      if (http) this.http = await bind(this.plainServer(), http, 'http');
      if (https) this.https = await bind(this.tlsServer(), https, 'https');
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  async close(): Promise<void> {
    for (const f of this.forwarders) f.close();
    await Promise.all(
      [this.http, this.https].map(
        (s) =>
          s &&
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            (s as Server).closeAllConnections?.();
          }),
      ),
    );
  }

  private forwarder(proto: 'http' | 'https'): Forwarder {
    const f = new Forwarder({
      table: () => this.table,
      resolve: this.resolve,
      proto,
      hstsSeconds: this.settings.hstsSeconds,
    });
    this.forwarders.push(f);
    return f;
  }

  private plainServer(): Server {
    const f = this.forwarder('http');
    const { redirectHttps, https } = this.settings;
    const server = createHttpServer((req, res) => {
      if (redirectHttps && https) return redirect(req, res, https.port);
      f.handle(req, res);
    });
    server.on('upgrade', (req, socket, head) => f.upgrade(req, socket, head));
    return server;
  }

  private tlsServer(): Http2SecureServer {
    const f = this.forwarder('https');
    const first = this.certFor(this.certKey(FALLBACK_NAME));
    const server = createSecureServer({
      allowHTTP1: true,
      ALPNProtocols: ['h2', 'http/1.1'],
      cert: first.cert,
      key: first.key,
      SNICallback: (name, cb) => {
        try {
          cb(null, this.context(name));
        } catch (err) {
          cb(err as Error);
        }
      },
    });
    server.on('request', (req, res) => f.handle(req, res));
    // HTTP/1.1 clients over TLS (allowHTTP1) upgrade here, as on the plain entry.
    server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) =>
      f.upgrade(req, socket, head),
    );
    return server;
  }

  private context(servername: string): SecureContext {
    const key = this.certKey(servername);
    let ctx = this.contexts.get(key);
    if (!ctx) {
      ctx = createSecureContext(this.certFor(key));
      this.contexts.set(key, ctx);
    }
    return ctx;
  }

  /** Which certificate answers a name. One of a bounded set (the routed hosts, or the user's
   * pairs), so names a client makes up neither grow the cache nor make the CA sign anything. */
  private certKey(servername: string): string {
    const name = normalizeHost(servername);
    if (this.ca) return this.table.certName(name) ?? FALLBACK_NAME;
    const pairs = this.settings.tls as TlsPair[];
    return String(
      Math.max(
        0,
        pairs.findIndex((p) => p.names.some((n) => matches(n, name))),
      ),
    );
  }

  /** The certificate for a key of certKey(): issued by the local CA, or the user's pair. */
  private certFor(key: string): { cert: string; key: string } {
    if (this.ca) return this.ca.issue(key);
    return (this.settings.tls as TlsPair[])[Number(key)]!;
  }
}

function matches(pattern: string, name: string): boolean {
  return pattern === name || (pattern.startsWith('*.') && name.endsWith(pattern.slice(1)));
}

function redirect(req: IncomingMessage, res: ServerResponse, httpsPort: number): void {
  const host = normalizeHost(req.headers.host) || FALLBACK_NAME;
  const port = httpsPort === 443 ? '' : `:${httpsPort}`;
  res.writeHead(308, { location: `https://${host}${port}${req.url ?? '/'}`, 'content-length': 0 });
  res.end();
}

async function bind<S extends Server | Http2SecureServer>(
  server: S,
  addr: ListenAddress,
  what: string,
): Promise<S> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new HerdError(
          `the ingress cannot listen for ${what} on ${addr.host}:${addr.port}: ${err.code ?? err.message}; ` +
            'stop what uses that port or change `x-herd.ingress`',
          'PORT_UNAVAILABLE',
        ),
      ),
    );
    server.listen(addr.port, addr.host, () => resolve());
  });
  return server;
}
