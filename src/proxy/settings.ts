// Project-level proxy settings (`x-herd: { proxy: { workers: N } }`), validated here because
// the loader keeps top-level x-herd extras raw.
import type { Project } from '../compose/model.ts';
import { HerdError } from '../util/errors.ts';

export interface ProxySettings {
  /** Processes serving each balanced port: this one plus workers-1 forked children. */
  workers: number;
}

export const MAX_PROXY_WORKERS = 32;

export function readProxySettings(project: Project): ProxySettings {
  const raw = project.herd?.extra?.proxy;
  if (raw === undefined || raw === null) return { workers: 1 };
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw new HerdError(
      `x-herd.proxy: expected a mapping (for example "proxy: { workers: 2 }"), got ${JSON.stringify(raw)}`,
    );
  const settings: ProxySettings = { workers: 1 };
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (k !== 'workers')
      throw new HerdError(`x-herd.proxy: unknown key "${k}" (known keys: workers)`);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_PROXY_WORKERS)
      throw new HerdError(
        `x-herd.proxy.workers: expected a whole number from 1 to ${MAX_PROXY_WORKERS}, got ${JSON.stringify(v)}; use 1 to serve every port from herd's own process`,
      );
    settings.workers = v;
  }
  return settings;
}
