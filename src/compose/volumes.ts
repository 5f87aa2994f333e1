// Service `volumes` (short and long forms), `build`, and top-level named volumes.
import path from 'node:path';
import type { LoadContext } from './context.ts';
import { join } from './interpolate-tree.ts';
import { BUILD_KEYS, NAMED_VOLUME_KEYS, VOLUME_MOUNT_KEYS } from './keys.ts';
import type { BuildSpec, NamedVolume, VolumeMount } from './model.ts';
import { readLabels } from './environment.ts';
import type { CNode } from './yaml-source.ts';

const MODES = new Set([
  'ro',
  'rw',
  'z',
  'Z',
  'cached',
  'delegated',
  'consistent',
  'nocopy',
  'shared',
  'rshared',
  'slave',
  'rslave',
  'private',
  'rprivate',
]);

export function isPathLike(src: string): boolean {
  return (
    src.startsWith('.') || src.startsWith('/') || src.startsWith('~') || /^[A-Za-z]:[\\/]/.test(src)
  );
}

function resolveHostPath(src: string, projectDir: string): string {
  if (src.startsWith('~')) return path.join(process.env.HOME ?? '/', src.slice(1));
  return path.resolve(projectDir, src);
}

export function readVolumes(node: CNode, p: string, ctx: LoadContext): VolumeMount[] {
  const { c } = ctx;
  const seq = c.seq(node, p);
  if (!seq) return [];
  const out: VolumeMount[] = [];
  seq.items.forEach((item, i) => {
    const ip = `${p}[${i}]`;
    if (item.kind === 'map') {
      const m = readLongVolume(item, ip, ctx);
      if (m) out.push(m);
      return;
    }
    const s = c.string(item, ip, 'a volume such as "./src:/app:ro" or "data:/var/lib/data"');
    if (s === undefined) return;
    const mount = parseShortVolume(s, ctx.projectDir);
    if (typeof mount === 'string') c.diag.error(item.pos, ip, mount);
    else out.push(mount);
  });
  return out;
}

/** One volume in short syntax (`./src:/app:ro`, `data:/var/lib/data`, `/cache`), a relative or
 * `~` source resolved against `projectDir` / HOME; a string is what is wrong with it. Shared by
 * the loader and `herd run -v`. */
export function parseShortVolume(s: string, projectDir: string): VolumeMount | string {
  const parts = s.split(':');
  if (parts.length === 1) return { type: 'volume', target: s, readOnly: false };
  // Allow a Windows drive letter in the source (C:\...).
  if (/^[A-Za-z]$/.test(parts[0] as string) && parts.length >= 3)
    parts.splice(0, 2, `${parts[0]}:${parts[1]}`);
  // As Compose: ":/data" or "data::ro" is an empty section, not an anonymous volume.
  if (parts.includes(''))
    return `invalid volume ${JSON.stringify(s)}: empty section between colons`;
  const [src, target, mode] = parts as [string, string, string | undefined];
  const modes = mode === undefined ? [] : mode.split(',');
  if (parts.length > 3 || target === '' || modes.some((m) => !MODES.has(m)))
    return `expected a volume such as "./src:/app:ro" or "data:/var/lib/data", got ${JSON.stringify(s)}`;
  const readOnly = modes.includes('ro');
  if (isPathLike(src))
    return { type: 'bind', source: resolveHostPath(src, projectDir), target, readOnly };
  return { type: 'volume', source: src, target, readOnly };
}

function readLongVolume(
  map: CNode & { kind: 'map' },
  p: string,
  ctx: LoadContext,
): VolumeMount | undefined {
  const { c } = ctx;
  c.keys(map, p, VOLUME_MOUNT_KEYS);
  const typeNode = map.entries.get('type')?.value;
  const type = typeNode ? c.string(typeNode, join(p, 'type')) : 'volume';
  const targetNode = map.entries.get('target')?.value;
  const target = targetNode ? c.string(targetNode, join(p, 'target')) : undefined;
  if (!targetNode) c.diag.error(map.pos, p, 'a volume in long syntax needs `target`');
  const srcNode = map.entries.get('source')?.value;
  const source = srcNode ? c.string(srcNode, join(p, 'source')) : undefined;
  const roNode = map.entries.get('read_only')?.value;
  const readOnly = roNode ? (c.bool(roNode, join(p, 'read_only')) ?? false) : false;
  if (type === undefined || target === undefined) return undefined;
  if (type !== 'bind' && type !== 'volume' && type !== 'tmpfs') {
    if (!['npipe', 'cluster', 'image'].includes(type))
      c.fail(typeNode as CNode, join(p, 'type'), '"bind", "volume" or "tmpfs"');
    else ctx.c.diag.warn(`${p}: volume type "${type}" is not supported by herd and is ignored`);
    return undefined;
  }
  const mount: VolumeMount = { type, target, readOnly };
  if (source !== undefined && source !== '')
    mount.source = type === 'bind' ? resolveHostPath(source, ctx.projectDir) : source;
  if (type === 'bind' && mount.source === undefined)
    c.diag.error(map.pos, p, 'a bind mount needs `source`');
  return mount;
}

export function readBuild(node: CNode, p: string, ctx: LoadContext): BuildSpec | undefined {
  const { c } = ctx;
  const resolveContext = (s: string) =>
    /^[a-z]+:\/\/|^git@|\.git(#|$)/.test(s) ? s : path.resolve(ctx.projectDir, s);
  if (node.kind === 'scalar') {
    const s = c.string(node, p, 'a build context path or a mapping');
    return s === undefined ? undefined : { context: resolveContext(s), args: {} };
  }
  const map = c.map(node, p);
  if (!map) return undefined;
  c.keys(map, p, BUILD_KEYS);
  const ctxNode = map.entries.get('context')?.value;
  const spec: BuildSpec = {
    context: resolveContext((ctxNode && c.string(ctxNode, join(p, 'context'))) || '.'),
    args: {},
  };
  const df = map.entries.get('dockerfile')?.value;
  if (df) spec.dockerfile = c.string(df, join(p, 'dockerfile'));
  const target = map.entries.get('target')?.value;
  if (target) spec.target = c.string(target, join(p, 'target'));
  const args = map.entries.get('args')?.value;
  if (args) {
    for (const [k, { value }] of c.keyValues(args, join(p, 'args')) ?? []) {
      const v = value ?? ctx.lookup(k);
      if (v !== undefined) spec.args[k] = v;
    }
  }
  if (spec.dockerfile === undefined) delete spec.dockerfile;
  if (spec.target === undefined) delete spec.target;
  return spec;
}

export function readNamedVolumes(
  node: CNode,
  p: string,
  ctx: LoadContext,
): Record<string, NamedVolume> {
  const { c } = ctx;
  const out: Record<string, NamedVolume> = {};
  const map = c.map(node, p);
  if (!map) return out;
  for (const [name, e] of map.entries) {
    if (name.startsWith('x-')) continue;
    const vp = join(p, name);
    const vol: NamedVolume = { name, external: false, labels: {} };
    out[name] = vol;
    if (e.value.kind === 'scalar' && e.value.value === null) continue;
    const vm = c.map(e.value, vp);
    if (!vm) continue;
    c.keys(vm, vp, NAMED_VOLUME_KEYS);
    const n = vm.entries.get('name')?.value;
    if (n) vol.name = c.string(n, join(vp, 'name')) ?? name;
    const ext = vm.entries.get('external')?.value;
    if (ext) {
      // Old form `external: {name: x}` still appears in real files.
      if (ext.kind === 'map') {
        vol.external = true;
        const en = ext.entries.get('name')?.value;
        if (en) vol.name = c.string(en, join(vp, 'external.name')) ?? vol.name;
      } else vol.external = c.bool(ext, join(vp, 'external')) ?? false;
    }
    const d = vm.entries.get('driver')?.value;
    if (d) vol.driver = c.string(d, join(vp, 'driver'));
    const l = vm.entries.get('labels')?.value;
    if (l) vol.labels = readLabels(l, join(vp, 'labels'), ctx);
    if (vol.driver === undefined) delete vol.driver;
  }
  return out;
}
