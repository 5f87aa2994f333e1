// A service's volumes on a cluster: a named volume becomes a PersistentVolumeClaim (an external one
// is only referenced), an anonymous volume or tmpfs an emptyDir, and a bind mount, which names a
// folder of this machine, has no equivalent and is reported.
import type { Service, VolumeMount as ComposeMount } from '../compose/model.ts';
import { parseSize } from '../compose/units.ts';
import { at, objectMeta, rawService, type K8sContext } from './context.ts';
import type { Manifest, Volume, VolumeMount } from './k8s-types.ts';
import { dnsLabel, memoryQuantity } from './names.ts';

/** Compose volumes have no size; a claim must ask for one. */
export const DEFAULT_CLAIM_SIZE = '1Gi';

export interface PodVolumes {
  volumes: Volume[];
  mounts: VolumeMount[];
  claims: Manifest[];
}

export function podVolumes(ctx: K8sContext, service: Service): PodVolumes {
  const out: PodVolumes = { volumes: [], mounts: [], claims: [] };
  service.volumes.forEach((m, i) => mountVolume(ctx, service, m, i, out));
  const raw = rawService(ctx, service.name);
  const tmpfs =
    typeof raw.tmpfs === 'string' ? [raw.tmpfs] : Array.isArray(raw.tmpfs) ? raw.tmpfs : [];
  tmpfs.forEach((t, i) => {
    // `tmpfs: /run:size=64m` (Docker's options after the path are not Kubernetes')
    const [target = ''] = String(t).split(':');
    const name = `tmpfs-${i + 1}`;
    out.volumes.push({ name, emptyDir: { medium: 'Memory' } });
    out.mounts.push({ name, mountPath: target });
  });
  const shm =
    typeof raw.shm_size === 'string' || typeof raw.shm_size === 'number'
      ? parseSize(String(raw.shm_size))
      : undefined;
  if (shm !== undefined) {
    // The usual way to give a pod a larger /dev/shm than the runtime's 64 MiB.
    out.volumes.push({
      name: 'dshm',
      emptyDir: { medium: 'Memory', sizeLimit: memoryQuantity(shm) },
    });
    out.mounts.push({ name: 'dshm', mountPath: '/dev/shm' });
  }
  return out;
}

function mountVolume(
  ctx: K8sContext,
  service: Service,
  m: ComposeMount,
  i: number,
  out: PodVolumes,
): void {
  const where = at(service.name, 'volumes', String(i));
  const mount = (name: string, volume: Omit<Volume, 'name'>) => {
    if (!out.volumes.some((v) => v.name === name)) out.volumes.push({ name, ...volume });
    out.mounts.push({ name, mountPath: m.target, ...(m.readOnly ? { readOnly: true } : {}) });
  };
  if (m.type === 'bind') {
    ctx.report.dropped(
      where,
      `bind mount ${m.source} → ${m.target}: a folder of this machine does not exist on a cluster; ` +
        'bake the files into the image, or put them in a ConfigMap (files) or a volume (data)',
    );
    return;
  }
  if (m.type === 'tmpfs') return mount(`tmpfs-v${i + 1}`, { emptyDir: { medium: 'Memory' } });
  if (m.source === undefined) {
    ctx.report.note(
      where,
      `anonymous volume at ${m.target} → emptyDir: its data goes with the pod`,
    );
    return mount(`anon-${i + 1}`, { emptyDir: {} });
  }
  const def = ctx.project.volumes[m.source];
  const claimName = dnsLabel(def?.external ? def.name : m.source);
  mount(claimName, { persistentVolumeClaim: { claimName } });
  if (def?.external) {
    ctx.report.note(
      where,
      `external volume ${def.name}: the PersistentVolumeClaim ${claimName} must exist`,
    );
    return;
  }
  out.claims.push({
    object: {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: objectMeta(ctx, claimName),
      spec: {
        accessModes: ['ReadWriteOnce'],
        resources: { requests: { storage: DEFAULT_CLAIM_SIZE } },
      },
    },
    comment: `Compose volume "${m.source}": Compose gives no size, ${DEFAULT_CLAIM_SIZE} is a guess`,
  });
}

/** A ReadWriteOnce claim holds on one node: say so when several pods may mount it. */
export function noteSharedClaims(
  ctx: K8sContext,
  users: Map<string, { services: string[]; pods: number }>,
): void {
  for (const [claim, use] of users) {
    if (use.services.length > 1 || use.pods > 1)
      ctx.report.note(
        `volumes.${claim}`,
        `mounted by ${use.services.length > 1 ? `${use.services.join(', ')}` : `${use.pods} replicas`}: ` +
          'a ReadWriteOnce claim attaches to one node; use a ReadWriteMany StorageClass or a StatefulSet',
      );
  }
}
