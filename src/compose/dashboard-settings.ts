// The rules for the top-level `x-herd.dashboard` (kept raw in the model, like `proxy`): where the
// daemon serves the dashboard. One home, run by the loader (file:line:col) and by the daemon.
import { mapping, show, type Checked } from './herd-settings.ts';
import { parseListenAddress, type ListenAddress } from './listen-address.ts';
import { HerdError } from '../util/errors.ts';
import { unknownKeyMessage } from './check.ts';

export const DASHBOARD_KEYS = ['listen'];

export interface DashboardSettings {
  listen?: ListenAddress;
}

/** Checks the raw `x-herd.dashboard` (undefined or null: no dashboard). */
export function checkDashboard(raw: unknown): Checked<DashboardSettings> {
  const out: Checked<DashboardSettings> = { value: {}, problems: [] };
  const map = mapping(
    raw,
    'a mapping (for example "dashboard: { listen: 127.0.0.1:9465 }")',
    out.problems,
  );
  if (!map) return out;
  for (const key of Object.keys(map))
    if (!DASHBOARD_KEYS.includes(key))
      out.problems.push({ key, unknownKey: true, message: unknownKeyMessage(key, DASHBOARD_KEYS) });
  if (map.listen === undefined) {
    out.problems.push({ message: `expected "listen: <host:port>", got ${show(raw)}` });
    return out;
  }
  const listen = parseListenAddress(map.listen);
  if (typeof listen === 'string') out.problems.push({ key: 'listen', message: listen });
  else out.value.listen = listen;
  return out;
}

/** The dashboard settings of a loaded project, or undefined when it has none. */
export function dashboardOf(extra: Record<string, unknown>): ListenAddress | undefined {
  if (extra.dashboard === undefined) return undefined;
  const checked = checkDashboard(extra.dashboard);
  if (checked.problems.length > 0)
    throw new HerdError(`x-herd.dashboard: ${checked.problems[0]!.message}`, 'COMPOSE_INVALID');
  return checked.value.listen;
}
