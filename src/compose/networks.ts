// `networks`: the top-level definitions and the networks (with aliases) each service joins. Docker
// services are attached to them (runtime/docker/networks.ts); processes share the host's loopback,
// so for them the key is warned about, once.
import type { LoadContext } from './context.ts';
import { readLabels } from './environment.ts';
import { join } from './interpolate-tree.ts';
import type { NetworkDef, Service, ServiceNetwork } from './model.ts';
import { runtimeKind } from './runtime-kind.ts';
import type { CNode } from './yaml-source.ts';

const NETWORK_KEYS = [
  'name',
  'driver',
  'driver_opts',
  'attachable',
  'enable_ipv4',
  'enable_ipv6',
  'ipam',
  'internal',
  'labels',
  'external',
];
const SERVICE_NETWORK_KEYS = [
  'aliases',
  'ipv4_address',
  'ipv6_address',
  'link_local_ips',
  'mac_address',
  'driver_opts',
  'priority',
  'gw_priority',
  'interface_name',
];

/** Top-level `networks:`; `default` is always there, `<project>_default` unless renamed. */
export function readNetworks(
  node: CNode | undefined,
  project: string,
  ctx: LoadContext,
): Record<string, NetworkDef> {
  const { c } = ctx;
  const out: Record<string, NetworkDef> = {};
  const map = node ? c.map(node, 'networks') : undefined;
  for (const [key, e] of map?.entries ?? []) {
    if (key.startsWith('x-')) continue;
    const p = join('networks', key);
    const net: NetworkDef = {
      name: `${project}_${key}`,
      external: false,
      internal: false,
      labels: {},
    };
    out[key] = net;
    if (e.value.kind === 'scalar' && e.value.value === null) continue;
    const m = c.map(e.value, p);
    if (!m) continue;
    c.keys(m, p, NETWORK_KEYS);
    const get = (k: string) => m.entries.get(k)?.value;
    const ext = get('external');
    if (ext) net.external = ext.kind === 'map' || (c.bool(ext, join(p, 'external')) ?? false);
    // An external network is known to the engine by its key unless `name` says otherwise.
    if (net.external) net.name = key;
    const name = get('name');
    if (name) net.name = c.string(name, join(p, 'name')) ?? net.name;
    const internal = get('internal');
    if (internal) net.internal = c.bool(internal, join(p, 'internal')) ?? false;
    const driver = get('driver');
    if (driver) net.driver = c.string(driver, join(p, 'driver'));
    const labels = get('labels');
    if (labels) net.labels = readLabels(labels, join(p, 'labels'), ctx);
    if (net.driver === undefined) delete net.driver;
  }
  out.default ??= { name: `${project}_default`, external: false, internal: false, labels: {} };
  return out;
}

/** A service's `networks:`: a list of names or a mapping of name to {aliases, …}. */
export function readServiceNetworks(
  node: CNode,
  p: string,
  ctx: LoadContext,
): Record<string, ServiceNetwork> {
  const { c } = ctx;
  const out: Record<string, ServiceNetwork> = {};
  if (node.kind === 'seq') {
    node.items.forEach((item, i) => {
      const name = c.string(item, `${p}[${i}]`, 'a network name');
      if (name !== undefined) out[name] = { aliases: [] };
    });
    return out;
  }
  const map = c.map(node, p);
  for (const [name, e] of map?.entries ?? []) {
    const np = join(p, name);
    out[name] = { aliases: [] };
    if (e.value.kind === 'scalar' && e.value.value === null) continue;
    const m = c.map(e.value, np);
    if (!m) continue;
    c.keys(m, np, SERVICE_NETWORK_KEYS);
    const aliases = m.entries.get('aliases')?.value;
    if (aliases) out[name]!.aliases = c.stringList(aliases, join(np, 'aliases')) ?? [];
  }
  return out;
}

/** One warning naming every process service that asks for networks. */
export function warnProcessNetworks(services: Record<string, Service>, ctx: LoadContext): void {
  const names = Object.values(services)
    .filter((s) => s.networks !== undefined && runtimeKind(s) === 'process')
    .map((s) => s.name);
  if (names.length === 0) return;
  ctx.c.diag.warn(
    `\`networks\` is not honoured by the process runtime (service${names.length > 1 ? 's' : ''} ` +
      `${names.join(', ')}): processes share the host's loopback and reach each other through ` +
      "herd's balancer; run a service in Docker to attach it to networks",
  );
}
