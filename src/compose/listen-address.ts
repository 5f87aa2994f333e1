// Where one of herd's own HTTP endpoints (the dashboard, the metrics) listens: `host:port`,
// `[v6]:port`, or a bare port, which means loopback. Any other host only when the file names it.
import { isIP } from 'node:net';

export interface ListenAddress {
  host: string;
  port: number;
}

export const LOOPBACK = '127.0.0.1';

/** Parses a listen address; a string saying what is wrong when it is not one. A bare port binds
 * `defaultHost`: loopback for herd's own pages, every interface for `ports`-like entries. */
export function parseListenAddress(raw: unknown, defaultHost = LOOPBACK): ListenAddress | string {
  const text = typeof raw === 'number' ? String(raw) : raw;
  if (typeof text !== 'string' || text.trim() === '')
    return `expected an address such as "127.0.0.1:9465" or a port, got ${JSON.stringify(raw)}`;
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d+)$|^(\d+)$/.exec(text.trim());
  if (!m) return `"${text}" is not host:port (write IPv6 hosts as [::1]:9465)`;
  const host = m[1] ?? (m[2] || defaultHost);
  const port = Number(m[3] ?? m[4]);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    return `port ${m[3] ?? m[4]} in "${text}" is outside 1-65535`;
  if (host !== 'localhost' && isIP(host) === 0)
    return `"${host}" in "${text}" is not an IP address (or localhost)`;
  return { host, port };
}

/** The URL of an address, for people: IPv6 hosts in brackets, 0.0.0.0/:: shown as loopback
 * (what a browser on this machine can open). */
export function addressUrl({ host, port }: ListenAddress): string {
  const shown = host === '0.0.0.0' ? LOOPBACK : host === '::' ? '::1' : host;
  return `http://${isIP(shown) === 6 ? `[${shown}]` : shown}:${port}`;
}
