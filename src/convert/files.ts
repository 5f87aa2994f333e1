// A service's `secrets:` and `configs:` as Kubernetes Secrets and ConfigMaps, mounted where Compose
// puts them (/run/secrets/<name>, /<name> for configs). Their content is read now, from the file,
// the inline `content` or the variable the top-level definition names; `external` ones are
// referenced by name and must exist in the cluster.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Service } from '../compose/model.ts';
import { asMap, type RawMap } from '../compose/raw-tree.ts';
import { at, objectMeta, rawService, type K8sContext } from './context.ts';
import type { Manifest, Volume, VolumeMount } from './k8s-types.ts';
import { dnsLabel } from './names.ts';

type Kind = 'secrets' | 'configs';

export interface MountedFiles {
  volumes: Volume[];
  mounts: VolumeMount[];
  /** The Secrets and ConfigMaps, keyed by object name (several services may mount one). */
  manifests: Manifest[];
}

export function mountedFiles(ctx: K8sContext, service: Service): MountedFiles {
  const out: MountedFiles = { volumes: [], mounts: [], manifests: [] };
  for (const kind of ['secrets', 'configs'] as const) {
    const refs = rawService(ctx, service.name)[kind];
    if (!Array.isArray(refs)) continue;
    refs.forEach((ref, i) => mountOne(ctx, service, kind, ref, i, out));
  }
  return out;
}

function mountOne(
  ctx: K8sContext,
  service: Service,
  kind: Kind,
  ref: unknown,
  index: number,
  out: MountedFiles,
): void {
  const where = at(service.name, kind, String(index));
  const long = asMap(ref);
  const source = String(long ? long.source : ref);
  const def = asMap(asMap(ctx.raw.root[kind])?.[source]) ?? {};
  const objectName = dnsLabel(typeof def.name === 'string' ? def.name : source);
  const key = source.replace(/[^-._a-zA-Z0-9]/g, '_');
  const target = typeof long?.target === 'string' ? long.target : source;
  const mountPath = path.posix.isAbsolute(target)
    ? target
    : kind === 'secrets'
      ? `/run/secrets/${target}`
      : `/${target}`;
  const volumeName = dnsLabel(`${kind === 'secrets' ? 'secret' : 'config'}-${source}`);
  const item: { key: string; path: string; mode?: number } = { key, path: key };
  if (typeof long?.mode === 'number') item.mode = long.mode;
  if (long?.uid !== undefined || long?.gid !== undefined)
    ctx.report.dropped(
      where,
      'uid/gid: a mounted Secret or ConfigMap belongs to root (or the pod securityContext.fsGroup)',
    );
  out.volumes.push(
    kind === 'secrets'
      ? { name: volumeName, secret: { secretName: objectName, items: [item] } }
      : { name: volumeName, configMap: { name: objectName, items: [item] } },
  );
  out.mounts.push({ name: volumeName, mountPath, subPath: key, readOnly: true });
  if (def.external === true || asMap(def.external)) {
    ctx.report.note(
      where,
      `external: the ${kind === 'secrets' ? 'Secret' : 'ConfigMap'} ${objectName} must exist in the cluster`,
    );
    return;
  }
  const content = readContent(ctx, kind, source, def);
  if (content === undefined) return;
  out.manifests.push(fileObject(ctx, kind, objectName, key, content));
}

function readContent(ctx: K8sContext, kind: Kind, source: string, def: RawMap): Buffer | undefined {
  const where = `${kind}.${source}`;
  if (typeof def.content === 'string') return Buffer.from(def.content);
  if (typeof def.environment === 'string') {
    const value = ctx.raw.env[def.environment];
    if (value !== undefined) return Buffer.from(value);
    ctx.report.dropped(where, `the variable ${def.environment} is not set, so there is no content`);
    return undefined;
  }
  if (typeof def.file === 'string') {
    const file = path.resolve(ctx.project.workingDir, def.file);
    try {
      return readFileSync(file);
    } catch (err) {
      ctx.report.dropped(where, `cannot read ${file}: ${(err as Error).message}`);
      return undefined;
    }
  }
  ctx.report.dropped(where, 'no file, content or environment to take the content from');
  return undefined;
}

function fileObject(
  ctx: K8sContext,
  kind: Kind,
  name: string,
  key: string,
  content: Buffer,
): Manifest {
  const metadata = objectMeta(ctx, name);
  if (kind === 'secrets')
    return {
      object: {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata,
        type: 'Opaque',
        data: { [key]: content.toString('base64') },
      },
      comment: 'base64, not encrypted; keep this file out of version control',
    };
  const text = content.toString('utf8');
  const isText = Buffer.from(text, 'utf8').equals(content) && !text.includes('\0');
  return {
    object: {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata,
      ...(isText
        ? { data: { [key]: text } }
        : { binaryData: { [key]: content.toString('base64') } }),
    },
  };
}
