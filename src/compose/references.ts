// What services name at the top level must be declared there, as Compose requires: a named volume
// under `volumes:`, a secret under `secrets:`, a config under `configs:`, a network under
// `networks:` (`default` is always there). An undeclared one is an error at the reference.
import type { Checker } from './check.ts';
import { isPathLike } from './volumes.ts';
import type { CMap, CNode } from './yaml-source.ts';

interface Ref {
  kind: 'volume' | 'secret' | 'config' | 'network';
  name: string;
  node: CNode;
  path: string;
}

const SECTION = { volume: 'volumes', secret: 'secrets', config: 'configs', network: 'networks' };

export function checkReferences(root: CMap, c: Checker): void {
  const services = root.entries.get('services')?.value;
  if (!services || services.kind !== 'map') return;
  const declared = (section: string): Set<string> => {
    const m = root.entries.get(section)?.value;
    return new Set(m?.kind === 'map' ? m.entries.keys() : []);
  };
  const known = {
    volume: declared('volumes'),
    secret: declared('secrets'),
    config: declared('configs'),
    network: new Set([...declared('networks'), 'default']),
  };
  for (const [name, e] of services.entries) {
    if (e.value.kind !== 'map' || name.startsWith('x-')) continue;
    for (const ref of referencesOf(e.value, `services.${name}`)) {
      if (known[ref.kind].has(ref.name)) continue;
      c.diag.error(
        ref.node.pos,
        ref.path,
        `service "${name}" refers to undefined ${ref.kind} "${ref.name}": declare it under the top-level \`${SECTION[ref.kind]}:\``,
      );
    }
  }
}

function referencesOf(svc: CMap, p: string): Ref[] {
  const refs: Ref[] = [];
  const items = (key: string) => {
    const v = svc.entries.get(key)?.value;
    return v?.kind === 'seq' ? v.items : [];
  };
  items('volumes').forEach((item, i) => {
    const name = volumeSource(item);
    if (name !== undefined)
      refs.push({ kind: 'volume', name, node: item, path: `${p}.volumes[${i}]` });
  });
  for (const kind of ['secret', 'config'] as const) {
    items(`${kind}s`).forEach((item, i) => {
      const src = item.kind === 'map' ? item.entries.get('source')?.value : item;
      if (src?.kind === 'scalar' && typeof src.value === 'string')
        refs.push({ kind, name: src.value, node: src, path: `${p}.${kind}s[${i}]` });
    });
  }
  const nets = svc.entries.get('networks')?.value;
  if (nets?.kind === 'seq')
    nets.items.forEach((item, i) => {
      if (item.kind === 'scalar' && typeof item.value === 'string')
        refs.push({ kind: 'network', name: item.value, node: item, path: `${p}.networks[${i}]` });
    });
  else if (nets?.kind === 'map')
    for (const [name, e] of nets.entries)
      refs.push({
        kind: 'network',
        name,
        node: { ...e.value, pos: e.keyPos },
        path: `${p}.networks.${name}`,
      });
  return refs;
}

/** The named volume a mount uses, if it uses one (not a bind mount, tmpfs or anonymous volume). */
function volumeSource(item: CNode): string | undefined {
  if (item.kind === 'scalar' && typeof item.value === 'string') {
    const parts = item.value.split(':');
    const src = parts[0] ?? '';
    if (parts.length < 2 || src === '' || isPathLike(src) || /^[A-Za-z]$/.test(src))
      return undefined;
    return src;
  }
  if (item.kind !== 'map') return undefined;
  const type = item.entries.get('type')?.value;
  if (type && !(type.kind === 'scalar' && type.value === 'volume')) return undefined;
  const src = item.entries.get('source')?.value;
  return src?.kind === 'scalar' && typeof src.value === 'string' && src.value !== ''
    ? src.value
    : undefined;
}
