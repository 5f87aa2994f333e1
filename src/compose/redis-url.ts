// The `url` of `x-herd.autoscale.redis_list`: `redis://[[user]:password@]host[:port][/db]`. Its
// host and port are usually another service's, written as the variables herd gives replicas
// (`${REDIS_SERVICE_HOST}`, `${REDIS_SERVICE_PORT}`): those are herd's to fill in when it reads the
// list (the balancer's address for that service, known only once the stack runs), so loading the
// file keeps them as written instead of blanking them from the shell's environment.
import type { RedisAddress } from '../util/redis-llen.ts';
import type { Lookup } from './interpolate.ts';

const DEFAULT_PORT = 6379;
/** `<NAME>_SERVICE_HOST` / `<NAME>_SERVICE_PORT`, as runtime/env.ts names them. */
const SERVICE_VARIABLE = /^([A-Z0-9_]+)_SERVICE_(HOST|PORT)$/;
const URL_PATH = /^services\..+\.x-herd\.autoscale\.redis_list\.url$/;

/** The lookup to interpolate the value at `path` with: the same one, except that a redis_list
 * url keeps its service variables for herd (see above). */
export function urlLookup(path: string, lookup: Lookup): Lookup {
  if (!URL_PATH.test(path)) return lookup;
  return (name) => (SERVICE_VARIABLE.test(name) ? `\${${name}}` : lookup(name));
}

/** The address `url` names, or why it names none. Loopback only: herd sends no traffic
 * elsewhere. */
export function parseRedisUrl(url: string): RedisAddress | string {
  const m =
    /^redis:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?(\[[^\]/]*\]|[^:/@]*)(?::([^/]*))?(?:\/(.*))?$/.exec(
      url,
    );
  if (!m)
    return `expected redis://host:port (such as redis://\${REDIS_SERVICE_HOST}:\${REDIS_SERVICE_PORT}), got ${JSON.stringify(url)}`;
  const [, user, pass, rawHost = '', rawPort, rawDb] = m;
  const host = rawHost.replace(/^\[|\]$/g, '');
  if (host === '') return `has no host: ${JSON.stringify(url)}`;
  if (!isLoopback(host))
    return `must point at this machine (127.0.0.1, localhost, ::1 or a service's \${NAME_SERVICE_HOST}), got host ${JSON.stringify(host)}`;
  const port = rawPort === undefined || rawPort === '' ? DEFAULT_PORT : Number(rawPort);
  if (!/^\d*$/.test(rawPort ?? '') || !Number.isInteger(port) || port < 1 || port > 65535)
    return `has a bad port ${JSON.stringify(rawPort)}: expected 1-65535`;
  const out: RedisAddress = { host, port };
  if (rawDb !== undefined && rawDb !== '') {
    if (!/^\d+$/.test(rawDb))
      return `has a bad database ${JSON.stringify(rawDb)}: expected a number`;
    out.db = Number(rawDb);
  }
  if (user) out.username = decodeURIComponent(user);
  if (pass !== undefined && pass !== '') out.password = decodeURIComponent(pass);
  return out;
}

/** What parseRedisUrl says about a url as written in the file, its service variables standing
 * for a loopback address. */
export function checkRedisUrl(url: string): string | undefined {
  const standIn = fillServiceVariables(url, (_, what) =>
    what === 'HOST' ? '127.0.0.1' : String(DEFAULT_PORT),
  );
  const r = parseRedisUrl(standIn);
  return typeof r === 'string'
    ? r.replace(JSON.stringify(standIn), JSON.stringify(url))
    : undefined;
}

/** `url` with each `${NAME_SERVICE_HOST}` / `${NAME_SERVICE_PORT}` replaced by `fill(NAME, what)`;
 * nothing else in it is a variable any more (loading interpolated the rest, `$$` included). */
export function fillServiceVariables(
  url: string,
  fill: (name: string, what: 'HOST' | 'PORT') => string,
): string {
  return url.replace(/\$\{([A-Z0-9_]+)_SERVICE_(HOST|PORT)\}/g, (_, name: string, what: string) =>
    fill(name, what as 'HOST' | 'PORT'),
  );
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
