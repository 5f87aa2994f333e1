// Port syntaxes: short `[IP:][HOST:]CONTAINER[/PROTO]` with ranges and [IPv6], the long mapping form,
// and `expose` entries. Target ranges expand to one PortSpec per port.
import { isIP } from 'node:net';
import type { Checker } from './check.ts';
import { join } from './interpolate-tree.ts';
import { PORT_KEYS } from './keys.ts';
import type { ExposeSpec, PortRange, PortSpec, Protocol } from './model.ts';
import type { CNode } from './yaml-source.ts';

export class PortSyntaxError extends Error {}

const PORT_SHORT_HINT =
  'a port such as "3000", "8000:8000", "127.0.0.1:8001:8001" or "6060:6060/udp"';

export function parseRange(text: string, allowZero = false): PortRange {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text.trim());
  if (!m) throw new PortSyntaxError(`invalid port or range ${JSON.stringify(text)}`);
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  const min = allowZero ? 0 : 1;
  if (start < min || end > 65535 || start > 65535)
    throw new PortSyntaxError(`port ${text} is out of range ${min}-65535`);
  if (end < start) throw new PortSyntaxError(`port range ${text} ends before it starts`);
  return { start, end };
}

function parseProtocol(text: string): Protocol {
  const p = text.toLowerCase();
  if (p === 'tcp' || p === 'udp') return p;
  throw new PortSyntaxError(
    `unsupported protocol ${JSON.stringify(text)} (herd supports tcp and udp)`,
  );
}

/** Parses one short-syntax port entry. */
export function parseShortPort(spec: string): PortSpec[] {
  let rest = spec.trim();
  let protocol: Protocol = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    protocol = parseProtocol(rest.slice(slash + 1));
    rest = rest.slice(0, slash);
  }
  let hostIp: string | undefined;
  let host: string | undefined;
  let container: string;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0 || rest[close + 1] !== ':')
      throw new PortSyntaxError(`invalid IPv6 address in ${JSON.stringify(spec)}`);
    hostIp = rest.slice(1, close);
    const after = rest.slice(close + 2).split(':');
    if (after.length !== 2)
      throw new PortSyntaxError(`expected [IP]:HOST:CONTAINER in ${JSON.stringify(spec)}`);
    host = after[0] as string;
    container = after[1] as string;
  } else {
    const parts = rest.split(':');
    if (parts.length === 1) container = parts[0] as string;
    else if (parts.length === 2) [host, container] = parts as [string, string];
    else {
      container = parts.pop() as string;
      host = parts.pop() as string;
      hostIp = parts.join(':');
    }
  }
  if (hostIp === '') hostIp = undefined;
  const target = parseRange(container);
  const published = host === undefined || host === '' ? undefined : parseRange(host);
  if (hostIp !== undefined) checkHostIp(hostIp);
  return expand(target, published, hostIp, protocol, spec);
}

/** Compose (go-connections' ParsePortSpec) rejects a host IP that is not an address, e.g. the
 * extra field of `"80:80:80"`; without this it would be taken as a host to bind to. An IPv6
 * address may be written bare or in brackets; the brackets are already removed here. */
function checkHostIp(ip: string): void {
  if (isIP(ip) === 0)
    throw new PortSyntaxError(
      `invalid host IP ${JSON.stringify(ip)} (not an IPv4 or IPv6 address such as 127.0.0.1 or [::1])`,
    );
}

function expand(
  target: PortRange,
  published: PortRange | undefined,
  hostIp: string | undefined,
  protocol: Protocol,
  spec: string,
): PortSpec[] {
  const count = target.end - target.start + 1;
  const out: PortSpec[] = [];
  if (count === 1) {
    out.push(withOptional({ target: target.start, protocol }, published, hostIp));
    return out;
  }
  if (published) {
    const pubCount = published.end - published.start + 1;
    if (pubCount !== count) {
      throw new PortSyntaxError(
        `host range and container range in ${JSON.stringify(spec)} differ in length`,
      );
    }
  }
  for (let i = 0; i < count; i++) {
    const pub = published ? { start: published.start + i, end: published.start + i } : undefined;
    out.push(withOptional({ target: target.start + i, protocol }, pub, hostIp));
  }
  return out;
}

function withOptional(
  p: PortSpec,
  published: PortRange | undefined,
  hostIp: string | undefined,
): PortSpec {
  if (published) p.published = published;
  if (hostIp !== undefined) p.hostIp = hostIp;
  return p;
}

/** Reads the `ports` list (short and long forms). */
export function readPorts(node: CNode, path: string, c: Checker): PortSpec[] {
  const seq = c.seq(node, path);
  if (!seq) return [];
  const out: PortSpec[] = [];
  seq.items.forEach((item, i) => {
    const p = `${path}[${i}]`;
    if (item.kind === 'map') {
      const spec = readLongPort(item, p, c);
      if (spec) out.push(spec);
      return;
    }
    const s = c.string(item, p, PORT_SHORT_HINT);
    if (s === undefined) return;
    try {
      out.push(...parseShortPort(s));
    } catch (err) {
      if (!(err instanceof PortSyntaxError)) throw err;
      c.diag.error(item.pos, p, `expected ${PORT_SHORT_HINT}: ${err.message}`);
    }
  });
  return out;
}

function readLongPort(
  map: CNode & { kind: 'map' },
  path: string,
  c: Checker,
): PortSpec | undefined {
  c.keys(map, path, PORT_KEYS);
  const get = (k: string) => map.entries.get(k)?.value;
  const targetNode = get('target');
  if (!targetNode) {
    c.diag.error(map.pos, path, 'a port in long syntax needs `target`');
    return undefined;
  }
  const target = c.int(targetNode, join(path, 'target'), 'a port number');
  if (target === undefined) return undefined;
  if (target < 1 || target > 65535) {
    c.diag.error(targetNode.pos, join(path, 'target'), `port ${target} is out of range 1-65535`);
    return undefined;
  }
  const spec: PortSpec = { target, protocol: 'tcp' };
  const pub = get('published');
  if (pub && !(pub.kind === 'scalar' && (pub.value === null || pub.value === ''))) {
    const s = c.string(pub, join(path, 'published'), 'a port or range');
    if (s !== undefined) {
      try {
        spec.published = parseRange(s);
      } catch (err) {
        if (!(err instanceof PortSyntaxError)) throw err;
        c.diag.error(pub.pos, join(path, 'published'), err.message);
      }
    }
  }
  const ip = get('host_ip');
  if (ip) {
    const s = c.string(ip, join(path, 'host_ip'));
    const bare = s?.replace(/^\[(.*)\]$/, '$1');
    if (bare && isIP(bare) === 0)
      c.fail(ip, join(path, 'host_ip'), 'an IPv4 or IPv6 address such as 127.0.0.1 or ::1');
    else if (bare) spec.hostIp = bare;
  }
  const proto = get('protocol');
  if (proto) {
    const s = c.string(proto, join(path, 'protocol'));
    if (s !== undefined) {
      try {
        spec.protocol = parseProtocol(s);
      } catch (err) {
        if (!(err instanceof PortSyntaxError)) throw err;
        c.diag.error(proto.pos, join(path, 'protocol'), err.message);
      }
    }
  }
  const app = get('app_protocol');
  if (app) spec.appProtocol = c.string(app, join(path, 'app_protocol'));
  const mode = get('mode');
  if (mode) {
    const s = c.string(mode, join(path, 'mode'));
    if (s !== undefined && s !== 'host' && s !== 'ingress')
      c.fail(mode, join(path, 'mode'), '"host" or "ingress"');
  }
  const name = get('name');
  if (name) spec.name = c.string(name, join(path, 'name'));
  return spec;
}

/** Reads `expose`: ports or ranges with optional /proto, as strings or numbers. */
export function readExpose(node: CNode, path: string, c: Checker): ExposeSpec[] {
  const seq = c.seq(node, path);
  if (!seq) return [];
  const out: ExposeSpec[] = [];
  seq.items.forEach((item, i) => {
    const p = `${path}[${i}]`;
    const s = c.string(item, p, 'a port such as "3000", "3000-3005" or "3000/udp"');
    if (s === undefined) return;
    try {
      const [portPart, proto] = s.split('/');
      const protocol = proto === undefined ? 'tcp' : parseProtocol(proto);
      const r = parseRange(portPart ?? '');
      for (let port = r.start; port <= r.end; port++) out.push({ port, protocol });
    } catch (err) {
      if (!(err instanceof PortSyntaxError)) throw err;
      c.diag.error(
        item.pos,
        p,
        `expected a port such as "3000", "3000-3005" or "3000/udp": ${err.message}`,
      );
    }
  });
  return out;
}
