// The bytes herd writes of its own: the request head a replica gets, and herd's answer to a
// client it cannot serve (a short text, then the connection closes, lingering as nginx does).
import type net from 'node:net';
import type { RequestHead } from './http-parse.ts';

/** nginx's lingering_timeout: how long a closed exchange waits for the client to close too. */
const LINGER_MS = 5000;

/** Every status herd answers with itself. */
const REASONS: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
};

/** The request head as a replica gets it: hop-by-hop headers replaced, X-Forwarded-* added. A
 * pool behind herd's ingress (`keepForwarded`) passes on the ingress's X-Forwarded-* instead: it
 * is the hop that met the client, so its For, Proto and Host are the true ones. */
export function forwardedHead(
  req: RequestHead,
  clientIp: string | undefined,
  port: number,
  keepForwarded = false,
): string {
  const ip = clientIp ?? '';
  const keep = keepForwarded && req.xForwardedFor !== undefined;
  const xff =
    keep || !req.xForwardedFor ? (req.xForwardedFor ?? ip) : `${req.xForwardedFor}, ${ip}`;
  const proto = (keep && req.xForwardedProto) || 'http';
  const host = (keep && req.xForwardedHost) || req.host;
  let h = `${req.method} ${req.target} HTTP/1.${req.minor}\r\n${req.forwardLines}X-Forwarded-For: ${xff}\r\nX-Forwarded-Proto: ${proto}\r\n`;
  if (host !== undefined) h += `X-Forwarded-Host: ${host}\r\n`;
  h += `X-Forwarded-Port: ${(keep && req.xForwardedPort) || port}\r\n`;
  h += req.upgrade
    ? `Upgrade: ${req.upgrade}\r\nConnection: Upgrade\r\n\r\n`
    : 'Connection: keep-alive\r\n\r\n';
  return h;
}

/** herd's own answer: the status, a text body, `extra` header lines, and Connection: close. */
export function errorResponse(status: number, body: string, extra: string): string {
  const reason = REASONS[status] ?? 'Bad Request';
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`;
}

/** Ends the client connection after `last`; a client that never closes its side is cut off
 * LINGER_MS after everything was handed to the kernel, so it cannot hold a descriptor forever. */
export function endClient(c: net.Socket, last?: string): void {
  c.once('finish', lingerThenDestroy);
  if (last === undefined) c.end();
  else c.end(last);
}

// Shared by every connection, so that none costs a function of its own.
function lingerThenDestroy(this: net.Socket): void {
  if (this.destroyed) return;
  // The timer goes with the socket: a client that closes promptly (the usual case) must not
  // leave its socket held by a timer for LINGER_MS, which would carry every such socket into
  // the old generation of the heap.
  lingering.set(this, setTimeout(destroySocket, LINGER_MS, this).unref());
  this.once('close', clearLinger);
}

const lingering = new WeakMap<net.Socket, NodeJS.Timeout>();

function clearLinger(this: net.Socket): void {
  clearTimeout(lingering.get(this));
}

function destroySocket(c: net.Socket): void {
  c.destroy();
}
