// A listening socket in front of one Balancer: decides per connection whether it speaks HTTP
// (balanced per request) or anything else (balanced per connection).
import net from 'node:net';
import type { Balancer } from './balancer.ts';
import { HttpSession } from './http-session.ts';
import type { HttpLimits } from './http-limits.ts';
import { startTcpSession } from './tcp-session.ts';

export type ListenMode = 'http' | 'tcp' | 'sniff';

export interface ListenerOptions {
  host: string;
  port: number;
  mode: ListenMode;
  balancer: Balancer;
  limits: HttpLimits;
  /** How long to wait for a client's first bytes before treating it as TCP (server speaks first). */
  sniffMs: number;
  /** See HttpListenerContext.keepForwarded. */
  keepForwarded?: boolean;
}

/** Map a Compose `app_protocol` to a mode; unknown values are sniffed. */
export function modeFor(appProtocol: string | undefined): ListenMode {
  if (!appProtocol) return 'sniff';
  const p = appProtocol.toLowerCase();
  if (p === 'http' || p === 'http1' || p === 'http/1.1' || p === 'ws' || p === 'websocket')
    return 'http';
  if (
    p === 'tcp' ||
    p === 'redis' ||
    p === 'postgres' ||
    p === 'postgresql' ||
    p === 'mysql' ||
    p === 'grpc' ||
    p === 'h2c' ||
    p === 'http2' ||
    p === 'https' ||
    p === 'tls'
  )
    return 'tcp';
  return 'sniff';
}

/** A request line longer than this is taken for HTTP and left to the parser's limits. */
const MAX_SNIFF_LINE = 8192;

/** An HTTP request line is a method token, a space, a target and ` HTTP/x.y`. Checking the version
 * too keeps text protocols with upper-case commands (Redis' inline `SET a b`) out of HTTP mode. */
function sniff(buf: Buffer): 'http' | 'tcp' | 'more' {
  // Empty lines before a request line are HTTP's to ignore (RFC 9112 §2.2), and the session does.
  let from = 0;
  while (from < buf.length && (buf[from] === 0x0d || buf[from] === 0x0a)) from++;
  if (from === buf.length) return 'more';
  const n = Math.min(buf.length, from + 24);
  let i = from;
  for (; i < n; i++) {
    const c = buf[i]!;
    if (c === 0x20) break;
    if (!(c >= 0x41 && c <= 0x5a) && c !== 0x2d && c !== 0x5f) return 'tcp';
  }
  if (i === from) return 'tcp';
  if (i === n) return buf.length >= from + 24 ? 'tcp' : 'more';
  const eol = buf.indexOf(0x0a, i);
  if (eol === -1) return buf.length >= MAX_SNIFF_LINE ? 'http' : 'more';
  const end = eol > 0 && buf[eol - 1] === 0x0d ? eol - 1 : eol;
  return / HTTP\/\d\.\d$/.test(buf.toString('latin1', i, end)) ? 'http' : 'tcp';
}

export class ProxyListener {
  server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly sessions = new Set<HttpSession>();
  private sweep: NodeJS.Timeout | undefined;
  boundPort = 0;
  /** A sniffed port that has seen a real HTTP request line reads a client that stays silent past
   * the sniff wait as HTTP too: otherwise such a client would reach the replica as raw TCP,
   * without herd's limits and with an X-Forwarded-For of its own making. */
  private spokeHttp = false;

  /** `adopted`: a server already listening (a handle shared by herd's main process). */
  constructor(
    readonly opts: ListenerOptions,
    adopted?: net.Server,
  ) {
    this.server = adopted ?? net.createServer({ noDelay: true }, (s) => this.accept(s));
    if (adopted) this.adoptAgain(adopted);
  }

  /** Serve a socket another process bound (again, after stopAccepting()). */
  adoptAgain(server: net.Server): void {
    if (this.server !== server && this.server.listening) this.server.close();
    this.server = server;
    server.on('connection', (s: net.Socket) => {
      s.setNoDelay(true);
      this.accept(s);
    });
    server.on('error', () => {});
    this.boundPort = (server.address() as net.AddressInfo).port;
    this.startSweep();
  }

  private startSweep(): void {
    if (this.sweep) return;
    this.sweep = setInterval(() => {
      const now = Date.now();
      for (const h of this.sessions) {
        if (h.closed) this.sessions.delete(h);
        else h.tick(now);
      }
    }, 1000);
    this.sweep.unref();
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      const onErr = (e: Error): void => reject(e);
      this.server.once('error', onErr);
      this.server.listen({ host: this.opts.host, port: this.opts.port, exclusive: true }, () => {
        this.server.removeListener('error', onErr);
        this.server.on('error', () => {});
        this.boundPort = (this.server.address() as net.AddressInfo).port;
        this.startSweep();
        resolve(this.boundPort);
      });
    });
  }

  private accept(s: net.Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => {});
    try {
      const { mode } = this.opts;
      if (mode === 'http') return this.startHttp(s, null);
      if (mode === 'tcp') return this.startTcp(s, null);
      let got: Buffer | null = null;
      const decide = (kind: 'http' | 'tcp', byContent = false): void => {
        clearTimeout(timer);
        if (kind === 'http' && byContent) this.spokeHttp = true;
        s.removeListener('data', onData);
        if (kind === 'http') this.startHttp(s, got);
        else this.startTcp(s, got);
      };
      const onData = (d: Buffer): void => {
        got = got === null ? d : Buffer.concat([got, d]);
        const k = sniff(got);
        if (k !== 'more') decide(k, true);
      };
      const timer = setTimeout(
        () =>
          decide(
            (got === null && this.spokeHttp) || (got !== null && sniff(got) !== 'tcp')
              ? 'http'
              : 'tcp',
          ),
        this.opts.sniffMs,
      );
      s.on('data', onData);
    } catch {
      s.destroy();
    }
  }

  private startHttp(s: net.Socket, first: Buffer | null): void {
    const h = new HttpSession(
      s,
      {
        balancer: this.opts.balancer,
        limits: this.opts.limits,
        port: this.boundPort,
        keepForwarded: this.opts.keepForwarded,
      },
      first,
    );
    this.sessions.add(h);
    s.on('close', () => this.sessions.delete(h));
  }

  private startTcp(s: net.Socket, first: Buffer | null): void {
    startTcpSession(s, this.opts.balancer, this.opts.limits, first);
  }

  /** Lets go of the port but keeps serving the connections already open (a re-applied file that
   * binds the same port with other settings); listen() takes it again if that bind fails. */
  stopAccepting(): void {
    // close() frees the port at once; its callback would wait for the open connections.
    if (this.server.listening) this.server.close();
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      clearInterval(this.sweep);
      for (const s of this.sockets) s.destroy();
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
    });
  }
}
