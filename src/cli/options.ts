// Option parsing shared by verbs that start a command (`exec`, `run`).
import { HerdError } from '../util/errors.ts';

/** `-e KEY=VALUE` flags as a map; `-e KEY` alone takes KEY from herd's own environment, as
 * Compose does. */
export function parseEnvAssignments(
  flags: string[],
  env: Record<string, string | undefined> = process.env,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of flags) {
    const eq = f.indexOf('=');
    const key = eq < 0 ? f : f.slice(0, eq);
    if (!/^[^=\s]+$/.test(key))
      throw new HerdError(`-e ${f}: expected KEY=VALUE (or KEY)`, 'INVALID_ARGUMENT');
    const value = eq < 0 ? env[key] : f.slice(eq + 1);
    if (value !== undefined) out[key] = value;
  }
  return out;
}
