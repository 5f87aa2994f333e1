// One request through the ingress: routed by host and path, then sent over a kept-alive HTTP/1.1
// connection to the service's pool inside herd's balancer (which retries, drains and balances as
// for a published port). Hop-by-hop fields stay on their hop (RFC 9110 §7.6.1); X-Forwarded-*
// tell the service who asked and how.
import {
  Agent,
  request,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Route } from '../../compose/routes.ts';
import { normalizeHost, type RouteTable } from './table.ts';

export type Resolve = (service: string, port: number) => { host: string; port: number } | undefined;

/** Fields that belong to one connection, never forwarded (and HTTP/2's pseudo-headers). */
const HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
  'host',
]);

export interface ForwardContext {
  table: () => RouteTable;
  resolve: Resolve;
  /** 'http' or 'https': what the client spoke, for X-Forwarded-Proto. */
  proto: 'http' | 'https';
  /** Strict-Transport-Security max-age for answers over TLS. */
  hstsSeconds?: number;
}

type AnyRequest = IncomingMessage | Http2ServerRequest;
type AnyResponse = ServerResponse | Http2ServerResponse;

export class Forwarder {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 64 });

  constructor(private readonly ctx: ForwardContext) {}

  close(): void {
    this.agent.destroy();
  }

  handle(req: AnyRequest, res: AnyResponse): void {
    const host = hostOf(req);
    const target = this.target(host, req.url ?? '/');
    if (typeof target === 'string')
      return plain(
        res as ServerResponse,
        target === 'none' ? 404 : 503,
        target === 'none'
          ? 'no route for this host and path\n'
          : 'the service has no replica ready\n',
      );
    const upstream = request(
      {
        agent: this.agent,
        host: target.address.host,
        port: target.address.port,
        method: req.method,
        path: target.path,
        headers: this.headers(req, host),
      },
      (up) => this.respond(up, res),
    );
    upstream.on('error', () => {
      if (!res.headersSent) plain(res as ServerResponse, 502, 'the service did not answer\n');
      else res.destroy();
    });
    req.on('aborted', () => upstream.destroy());
    (req as IncomingMessage).pipe(upstream);
  }

  /** An HTTP/1.1 Upgrade (WebSocket): the route's pool gets the request, then the bytes flow. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const host = hostOf(req);
    const target = this.target(host, req.url ?? '/');
    if (typeof target === 'string') {
      socket.end(
        `HTTP/1.1 ${target === 'none' ? '404 Not Found' : '503 Service Unavailable'}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`,
      );
      return;
    }
    const headers = this.headers(req, host);
    headers.connection = 'upgrade';
    headers.upgrade = req.headers.upgrade ?? 'websocket';
    const up = connect(target.address.port, target.address.host, () => {
      let head0 = `${req.method} ${target.path} HTTP/1.1\r\n`;
      for (const [k, v] of Object.entries(headers))
        for (const one of Array.isArray(v) ? v : [v])
          if (one !== undefined) head0 += `${k}: ${one}\r\n`;
      up.write(`${head0}\r\n`);
      if (head.length) up.write(head);
      socket.pipe(up).pipe(socket);
    });
    const end = () => {
      up.destroy();
      socket.destroy();
    };
    up.on('error', end);
    socket.on('error', end);
    up.on('close', end);
    socket.on('close', end);
  }

  private target(
    host: string,
    url: string,
  ): { address: { host: string; port: number }; path: string } | 'none' | 'down' {
    const path = url.startsWith('/') ? url : '/';
    const route = this.ctx.table().match(host, path);
    if (!route) return 'none';
    const address = this.ctx.resolve(route.service, route.port);
    if (!address) return 'down';
    return { address, path: rewritePath(route, path) };
  }

  private headers(req: AnyRequest, host: string): IncomingHttpHeaders {
    const out: IncomingHttpHeaders = {};
    const listed = connectionListed(req.headers.connection);
    for (const [k, v] of Object.entries(req.headers)) {
      if (k.startsWith(':') || HOP.has(k) || listed.has(k)) continue;
      out[k] = v;
    }
    const te = req.headers.te;
    if (typeof te === 'string' && /\btrailers\b/i.test(te)) out.te = 'trailers';
    const authority = req.headers[':authority'];
    out.host = typeof authority === 'string' ? authority : (req.headers.host ?? host);
    const client = req.socket?.remoteAddress ?? '';
    const prior = req.headers['x-forwarded-for'];
    out['x-forwarded-for'] = prior ? `${String(prior)}, ${client}` : client;
    out['x-forwarded-proto'] = this.ctx.proto;
    out['x-forwarded-host'] = out.host;
    return out;
  }

  private respond(up: IncomingMessage, res: AnyResponse): void {
    const listed = connectionListed(up.headers.connection);
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(up.headers))
      if (v !== undefined && !HOP.has(k) && !listed.has(k)) headers[k] = v;
    if (this.ctx.hstsSeconds && this.ctx.proto === 'https')
      headers['strict-transport-security'] = `max-age=${this.ctx.hstsSeconds}`;
    res.writeHead(up.statusCode ?? 502, headers);
    up.pipe(res as ServerResponse);
    up.on('error', () => res.destroy());
  }
}

function hostOf(req: AnyRequest): string {
  const authority = req.headers[':authority'];
  return normalizeHost(typeof authority === 'string' ? authority : req.headers.host);
}

/** The names a Connection field lists (they are hop-by-hop too). */
function connectionListed(value: string | string[] | undefined): Set<string> {
  const out = new Set<string>();
  for (const v of Array.isArray(value) ? value : value ? [value] : [])
    for (const name of v.split(',')) if (name.trim()) out.add(name.trim().toLowerCase());
  return out;
}

function rewritePath(route: Route, path: string): string {
  if (!route.stripPrefix || route.path === '/') return path;
  const rest = path.slice(route.path.length);
  return rest.startsWith('/') ? rest : `/${rest}`;
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
