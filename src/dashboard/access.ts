// Who may use the dashboard: a request carries the token (once in the URL, which trades it for a
// cookie, then in that cookie, or as a Bearer header for scripts); changes also come from the
// page's own origin (no cross-site request can act), and the Host header names this server, so a
// DNS-rebound name cannot reach a loopback dashboard.
import type { IncomingMessage } from 'node:http';
import { sameToken } from './token.ts';

export class Access {
  readonly cookieName: string;

  constructor(
    private readonly token: string,
    private readonly origin: URL,
    /** Bound to every address (0.0.0.0/::): any Host may be used to reach it. */
    private readonly anyHost: boolean,
  ) {
    // Cookies ignore ports: two dashboards on one host keep one cookie each.
    this.cookieName = `herd_dashboard_${origin.port}`;
  }

  /** The Host header names this server (by its address or as localhost). */
  hostAllowed(hostHeader: string | undefined): boolean {
    const host = hostHeader?.toLowerCase();
    if (this.anyHost) return host !== undefined && host !== '';
    const port = this.origin.port;
    return (
      host === this.origin.host ||
      host === `localhost:${port}` ||
      host === `127.0.0.1:${port}` ||
      host === `[::1]:${port}`
    );
  }

  /** The request carries the token, as a cookie or a Bearer header. */
  authorized(req: IncomingMessage): boolean {
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ')) return sameToken(auth.slice(7).trim(), this.token);
    return sameToken(cookie(req.headers.cookie, this.cookieName), this.token);
  }

  /** The token given in a URL, checked. */
  tokenMatches(given: string | null): boolean {
    return sameToken(given ?? undefined, this.token);
  }

  /** A change sent by a browser comes from the page itself: its Origin (or Fetch Metadata) says so.
   * Bearer requests are not sent by browsers on their own, so they need no origin. */
  sameOrigin(req: IncomingMessage): boolean {
    if (req.headers.authorization?.startsWith('Bearer ')) return true;
    const origin = req.headers.origin;
    if (origin !== undefined) return this.hostAllowed(hostOf(origin));
    return req.headers['sec-fetch-site'] === 'same-origin';
  }

  /** The Set-Cookie value that keeps the token for this dashboard. */
  cookieHeader(): string {
    return `${this.cookieName}=${this.token}; HttpOnly; SameSite=Strict; Path=/`;
  }
}

function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** `http://127.0.0.1:9465` → `127.0.0.1:9465`; anything else → a host nothing matches. */
function hostOf(origin: string): string {
  try {
    const url = new URL(origin);
    return url.protocol === 'http:' ? url.host : '';
  } catch {
    return '';
  }
}
