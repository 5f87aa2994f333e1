// Project-level proxy settings (`x-herd: { proxy: { workers: N } }`). The rules live in
// compose/herd-settings.ts, which the loader also runs (with positions); checking again here
// covers projects built in code.
import { checkProxy, MAX_PROXY_WORKERS, PROXY_KEYS } from '../compose/herd-settings.ts';
import type { Project } from '../compose/model.ts';
import { HerdError } from '../util/errors.ts';

export interface ProxySettings {
  /** Processes serving each balanced port: this one plus workers-1 forked children. */
  workers: number;
}

export { MAX_PROXY_WORKERS };

export function readProxySettings(project: Project): ProxySettings {
  const { value, problems } = checkProxy(project.herd?.extra?.proxy);
  const first = problems[0];
  if (first?.unknownKey)
    throw new HerdError(
      `x-herd.proxy: unknown key "${first.key}" (known keys: ${PROXY_KEYS.join(', ')})`,
    );
  if (first)
    throw new HerdError(
      `x-herd.proxy${first.key === undefined ? '' : `.${first.key}`}: ${first.message}`,
    );
  return { workers: value.workers ?? 1 };
}
