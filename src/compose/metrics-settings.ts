// The rules for the top-level `x-herd.metrics` (kept raw in the model, like `proxy`): where the
// daemon serves Prometheus' /metrics. Loopback (127.0.0.1:9464, Prometheus' port for exporters of
// this kind) unless the file names another address. Run by the loader (file:line:col) and the daemon.
import { unknownKeyMessage } from './check.ts';
import { mapping, type Checked, type SettingProblem } from './herd-settings.ts';
import { LOOPBACK, parseListenAddress, type ListenAddress } from './listen-address.ts';
import { HerdError } from '../util/errors.ts';

export const METRICS_KEYS = ['listen'];
export const DEFAULT_METRICS_LISTEN: ListenAddress = { host: LOOPBACK, port: 9464 };

/** Checks the raw `x-herd.metrics` (undefined or null: no metrics endpoint). */
export function checkMetrics(raw: unknown): Checked<ListenAddress | undefined> {
  const problems: SettingProblem[] = [];
  const map = mapping(raw, 'a mapping such as { listen: "127.0.0.1:9464" }', problems);
  if (!map) return { value: undefined, problems };
  for (const key of Object.keys(map))
    if (!METRICS_KEYS.includes(key))
      problems.push({ key, unknownKey: true, message: unknownKeyMessage(key, METRICS_KEYS) });
  if (map.listen === undefined) return { value: DEFAULT_METRICS_LISTEN, problems };
  const listen = parseListenAddress(map.listen);
  if (typeof listen !== 'string') return { value: listen, problems };
  problems.push({ key: 'listen', message: listen });
  return { value: undefined, problems };
}

/** Where a loaded project serves its metrics; undefined when it does not. */
export function metricsListen(extra: Record<string, unknown>): ListenAddress | undefined {
  const { value, problems } = checkMetrics(extra.metrics);
  if (problems.length > 0)
    throw new HerdError(`x-herd.metrics: ${problems[0]!.message}`, 'COMPOSE_INVALID');
  return value;
}
