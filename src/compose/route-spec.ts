// One route as written (host, path prefix, port), shared by the readers of x-herd.routes,
// VIRTUAL_HOST and Traefik's labels.

export interface Route {
  service: string;
  /** Lower case; undefined matches any host. */
  host?: string;
  /** Path prefix, starting with '/'. */
  path: string;
  /** Remove the prefix before the request reaches the service. */
  stripPrefix: boolean;
  /** The service's port that serves it. */
  port: number;
  /** Where the route was written, for messages: "x-herd.routes", "VIRTUAL_HOST", a label. */
  source: string;
}

/** A route as written, before its port is known. */
export type RouteSpec = Omit<Route, 'port' | 'service'> & { port?: number };

const HOST = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

/** "api.example.com/v1" → host and path; "/v1" → any host. */
export function parseHostPath(
  text: string,
  source: string,
  stripPrefix: boolean,
): RouteSpec | string {
  const slash = text.indexOf('/');
  const host = (slash < 0 ? text : text.slice(0, slash)).trim().toLowerCase();
  const path = slash < 0 ? '/' : text.slice(slash);
  if (host === '' && slash < 0) return 'a route needs a host, a path, or both';
  if (host !== '' && !HOST.test(host)) return `"${host}" is not a host name`;
  if (/\s/.test(path)) return `"${path}" is not a path`;
  const spec: RouteSpec = { path, stripPrefix, source };
  if (host) spec.host = host;
  return spec;
}

export function portOf(v: unknown): number | undefined | null {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535 ? n : null;
}
