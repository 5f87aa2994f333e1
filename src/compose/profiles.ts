// Profiles: a service with `profiles` runs only when one of them is enabled (`*` enables all)
// or when it is named explicitly; services named explicitly bring their dependencies along.
import type { Diagnostics } from './errors.ts';
import type { Service } from './model.ts';

export interface Selection {
  services: Record<string, Service>;
  /** Services left out by profiles, with their profiles (for error hints). */
  disabled: Map<string, string[]>;
  /** The services named explicitly and what they depend on; undefined when none was named. */
  named?: Set<string>;
}

export function selectServices(
  all: Record<string, Service>,
  profiles: string[],
  enableServices: string[],
  diag: Diagnostics,
): Selection {
  const wanted = new Set<string>();
  for (const name of enableServices) {
    if (!all[name])
      diag.error(
        undefined,
        '',
        `no such service: ${name} (defined: ${Object.keys(all).join(', ') || 'none'})`,
      );
    else wanted.add(name);
  }
  // Explicitly named services pull in what they depend on, whatever its profiles.
  const queue = [...wanted];
  while (queue.length > 0) {
    const svc = all[queue.pop() as string];
    for (const dep of Object.keys(svc?.dependsOn ?? {})) {
      if (all[dep] && !wanted.has(dep)) {
        wanted.add(dep);
        queue.push(dep);
      }
    }
  }
  const enabled = new Set(profiles);
  const services: Record<string, Service> = {};
  const disabled = new Map<string, string[]>();
  for (const [name, svc] of Object.entries(all)) {
    const on =
      svc.profiles.length === 0 ||
      enabled.has('*') ||
      svc.profiles.some((p) => enabled.has(p)) ||
      wanted.has(name);
    if (on) services[name] = svc;
    else disabled.set(name, svc.profiles);
  }
  return { services, disabled, named: enableServices.length > 0 ? wanted : undefined };
}
