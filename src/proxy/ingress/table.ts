// Which route a request takes: the most specific host (exact, then wildcard, then any host), then
// the longest path prefix, as nginx's server_name/location and Traefik's rule priority pick.
import type { Route } from '../../compose/routes.ts';

export class RouteTable {
  constructor(private readonly routes: readonly Route[]) {}

  get size(): number {
    return this.routes.length;
  }

  /** The route for a request's Host header (port and trailing dot ignored) and path. */
  match(hostHeader: string | undefined, path: string): Route | undefined {
    const host = normalizeHost(hostHeader);
    let best: Route | undefined;
    let bestScore = -1;
    for (const r of this.routes) {
      const hostScore = hostMatch(r.host, host);
      if (hostScore < 0 || !path.startsWith(r.path)) continue;
      // Host specificity first, then the longer prefix.
      const score = hostScore * 1_000_000 + r.path.length;
      if (score > bestScore) {
        best = r;
        bestScore = score;
      }
    }
    return best;
  }

  /** The name a certificate is issued under when a client asks for `name` (SNI): a route's own
   * host, or `*.example.com` for a name one label under that wildcard route (what a TLS wildcard
   * covers). Undefined otherwise: the CA signs only for routed names, never one certificate per
   * name a client makes up. */
  certName(name: string): string | undefined {
    const host = normalizeHost(name);
    let wildcard: string | undefined;
    for (const r of this.routes) {
      if (r.host === undefined) continue;
      if (r.host === host) return host;
      if (
        hostMatch(r.host, host) === 2 &&
        !host.slice(0, host.length - r.host.length + 1).includes('.')
      )
        wildcard = r.host;
    }
    return wildcard;
  }
}

/** 3 exact, 2 wildcard, 1 any host, -1 no match. */
function hostMatch(pattern: string | undefined, host: string): number {
  if (pattern === undefined) return 1;
  if (pattern === host) return 3;
  if (
    pattern.startsWith('*.') &&
    host.endsWith(pattern.slice(1)) &&
    host.length > pattern.length - 1
  )
    return 2;
  return -1;
}

export function normalizeHost(header: string | undefined): string {
  let h = (header ?? '').trim().toLowerCase();
  if (h.startsWith('[')) h = h.slice(0, h.indexOf(']') + 1);
  else if (h.includes(':')) h = h.slice(0, h.lastIndexOf(':'));
  return h.endsWith('.') ? h.slice(0, -1) : h;
}
