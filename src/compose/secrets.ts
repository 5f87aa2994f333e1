// `secrets` and `configs`: the top-level definitions (a host `file`, a variable of the project
// `environment`, or inline `content` for configs) and what each service is given, as the Compose
// specification defines them. Containers get them as files at /run/secrets/<name> (secrets) or
// /<name> (configs) unless `target` says otherwise; processes get files of their own
// (runtime/files.ts).
import path from 'node:path';
import type { LoadContext } from './context.ts';
import { join } from './interpolate-tree.ts';
import type { Diagnostics } from './errors.ts';
import type { FileMount, FileObject, Service } from './model.ts';
import type { CNode } from './yaml-source.ts';

export type FileKind = 'secrets' | 'configs';

const SECRET_KEYS = ['file', 'environment', 'external', 'name', 'labels', 'driver', 'driver_opts'];
const TOP_KEYS: Record<FileKind, string[]> = {
  secrets: SECRET_KEYS,
  configs: [...SECRET_KEYS, 'content', 'template_driver'],
};
const MOUNT_KEYS = ['source', 'target', 'uid', 'gid', 'mode'];

/** Top-level `secrets:` or `configs:`. */
export function readFileObjects(
  node: CNode,
  kind: FileKind,
  ctx: LoadContext,
): Record<string, FileObject> {
  const { c } = ctx;
  const out: Record<string, FileObject> = {};
  const map = c.map(node, kind);
  for (const [name, e] of map?.entries ?? []) {
    if (name.startsWith('x-')) continue;
    const p = join(kind, name);
    const m = c.map(e.value, p);
    if (!m) continue;
    c.keys(m, p, TOP_KEYS[kind]);
    const get = (k: string) => m.entries.get(k)?.value;
    const obj: FileObject = { external: false };
    const ext = get('external');
    if (ext) obj.external = ext.kind === 'map' || (c.bool(ext, join(p, 'external')) ?? false);
    const file = get('file');
    if (file) {
      const f = c.string(file, join(p, 'file'));
      if (f !== undefined) obj.file = path.resolve(ctx.projectDir, f);
    }
    const env = get('environment');
    if (env) {
      obj.environment = c.string(env, join(p, 'environment'));
      const value = obj.environment === undefined ? undefined : ctx.lookup(obj.environment);
      if (value === undefined && obj.environment !== undefined)
        c.diag.error(env.pos, join(p, 'environment'), `variable ${obj.environment} is not set`);
      // Kept out of what `herd config` prints and what is serialized: the value is a secret.
      else Object.defineProperty(obj, 'content', { value, enumerable: false });
    }
    const content = kind === 'configs' ? get('content') : undefined;
    if (content) obj.content = c.string(content, join(p, 'content'));
    const sources = [obj.external, file, env, content].filter(Boolean).length;
    if (sources !== 1)
      c.diag.error(
        m.pos,
        p,
        sources === 0
          ? `needs a source: file${kind === 'configs' ? ', environment or content' : ' or environment'}`
          : 'give only one of file, environment, content and external',
      );
    out[name] = dropUndefined(obj);
  }
  return out;
}

/** A service's `secrets:` or `configs:` list, short (`- name`) or long (`- {source, target…}`). */
export function readFileMounts(
  node: CNode,
  p: string,
  kind: FileKind,
  ctx: LoadContext,
): FileMount[] {
  const { c } = ctx;
  const seq = c.seq(node, p);
  const out: FileMount[] = [];
  seq?.items.forEach((item, i) => {
    const ip = `${p}[${i}]`;
    if (item.kind !== 'map') {
      const source = c.string(item, ip, `a ${kind.slice(0, -1)} name or a mapping with \`source\``);
      if (source !== undefined) out.push({ source, target: targetPath(kind, source) });
      return;
    }
    c.keys(item, ip, MOUNT_KEYS);
    const get = (k: string) => item.entries.get(k)?.value;
    const src = get('source');
    const source = src ? c.string(src, join(ip, 'source')) : undefined;
    if (!src) c.diag.error(item.pos, ip, 'needs `source`');
    if (source === undefined) return;
    const t = get('target');
    const target = (t && c.string(t, join(ip, 'target'))) || source;
    const mount: FileMount = { source, target: targetPath(kind, target) };
    for (const k of ['uid', 'gid'] as const) {
      const v = get(k);
      if (v) mount[k] = c.string(v, join(ip, k));
    }
    const mode = get('mode');
    if (mode) mount.mode = readMode(mode, join(ip, 'mode'), ctx);
    out.push(dropUndefined(mount));
  });
  return out;
}

/** Secrets live under /run/secrets; a relative config target is taken from the root. */
function targetPath(kind: FileKind, target: string): string {
  if (target.startsWith('/')) return target;
  return kind === 'secrets' ? `/run/secrets/${target}` : `/${target}`;
}

/** Compose writes modes in octal (`0440`); YAML 1.2 reads that as the number 440, so a number
 * whose digits are all octal is read as octal, as the file's author meant. */
function readMode(node: CNode, p: string, ctx: LoadContext): number | undefined {
  if (node.kind === 'scalar') {
    const raw = String(node.value).replace(/^0o/, '');
    if (/^[0-7]{1,4}$/.test(raw)) return parseInt(raw, 8);
  }
  return ctx.c.fail(node, p, 'a file mode in octal, such as 0440');
}

function dropUndefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

/** External secrets and configs live in Swarm, which herd does not run: a service using one is
 * refused rather than started without it. */
export function checkExternalUse(
  services: Record<string, Service>,
  objects: Record<string, FileObject>,
  kind: FileKind,
  diag: Diagnostics,
): void {
  for (const svc of Object.values(services)) {
    for (const m of svc[kind] ?? []) {
      if (!objects[m.source]?.external) continue;
      diag.error(
        undefined,
        `services.${svc.name}.${kind}`,
        `${kind.slice(0, -1)} "${m.source}" is external (kept by Docker Swarm, which herd does not run); give it a \`file:\` or \`environment:\` source`,
      );
    }
  }
}
