// A service's environment as Kubernetes keeps it: `environment:` inline on the container, what came
// from `env_file` in a ConfigMap, and anything that looks like a credential in a Secret, so it can
// be handled (RBAC, sealed, rotated) apart from plain settings.
import type { Service } from '../compose/model.ts';
import { at, objectMeta, rawService, type K8sContext } from './context.ts';
import type { EnvFromSource, EnvVar, Manifest } from './k8s-types.ts';

export interface PodEnv {
  env: EnvVar[];
  envFrom: EnvFromSource[];
  manifests: Manifest[];
}

const SECRET_NAME = /PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL/i;
/** What a ConfigMap or Secret key may be; other names can only be set one by one. */
const DATA_KEY = /^[-._a-zA-Z0-9]+$/;

export function podEnv(ctx: K8sContext, service: Service): PodEnv {
  const name = ctx.names.of(service.name);
  const inline = inlineKeys(rawService(ctx, service.name).environment);
  const out: PodEnv = { env: [], envFrom: [], manifests: [] };
  const fromFile: Record<string, string> = {};
  const secret: Record<string, string> = {};
  for (const [key, value] of Object.entries(service.environment)) {
    if (SECRET_NAME.test(key) && DATA_KEY.test(key)) secret[key] = value;
    else if (!inline.has(key) && DATA_KEY.test(key)) fromFile[key] = value;
    else out.env.push({ name: key, value: escapeExpansion(value) });
  }
  if (Object.keys(fromFile).length > 0) {
    out.manifests.push({
      object: {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: objectMeta(ctx, `${name}-env`, service),
        data: fromFile,
      },
    });
    out.envFrom.push({ configMapRef: { name: `${name}-env` } });
  }
  if (Object.keys(secret).length > 0) {
    out.manifests.push({
      object: {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: objectMeta(ctx, `${name}-env`, service),
        type: 'Opaque',
        data: Object.fromEntries(
          Object.entries(secret).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
        ),
      },
      comment: `${Object.keys(secret).join(', ')}: base64, not encrypted; keep this file out of version control`,
    });
    out.envFrom.push({ secretRef: { name: `${name}-env` } });
    ctx.report.note(
      at(service.name, 'environment'),
      `${Object.keys(secret).join(', ')} moved to Secret ${name}-env (base64 in the manifest, not encrypted)`,
    );
  }
  return out;
}

/** Kubernetes expands `$(VAR)` in env values, command and args, and reduces `$$` to `$`: doubling
 * each `$` that precedes `$` or `(` keeps the value as Compose gave it. */
export function escapeExpansion(s: string): string {
  return s.replace(/\$(?=[$(])/g, '$$$$');
}

/** The names set by the service's own `environment:` (map or KEY=VALUE list), not by env_file. */
function inlineKeys(raw: unknown): Set<string> {
  if (Array.isArray(raw)) return new Set(raw.map((item) => String(item).split('=')[0] ?? ''));
  if (raw && typeof raw === 'object') return new Set(Object.keys(raw));
  return new Set();
}
