// Dependency graph helpers: which services `up web` must start, and in which order.
import type { Project } from '../compose/model.ts';
import { HerdError } from '../util/errors.ts';

/** Services in dependency order (dependencies first); throws on a cycle or unknown name. */
export function dependencyOrder(project: Project, names: string[]): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]): void => {
    const svc = project.services[name];
    if (!svc) {
      const from = path.at(-1);
      throw new HerdError(
        from
          ? `service "${from}" depends on "${name}", which is not defined in the project`
          : `no such service: ${name} (services: ${Object.keys(project.services).join(', ')})`,
      );
    }
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      throw new HerdError(
        `dependency cycle: ${[...path, name].join(' → ')}; remove one depends_on`,
      );
    }
    state.set(name, 'visiting');
    for (const [dep, d] of Object.entries(svc.dependsOn)) {
      // An optional dependency that is not in the project (e.g. its profile is off) is skipped.
      if (!d.required && !project.services[dep]) continue;
      visit(dep, [...path, name]);
    }
    state.set(name, 'done');
    order.push(name);
  };
  for (const n of names) visit(n, []);
  return order;
}

/** 0 for a service without dependencies, else one more than its deepest dependency.
 * `order` must be a dependency order (from dependencyOrder). */
export function dependencyDepths(project: Project, order: string[]): Map<string, number> {
  const depth = new Map<string, number>();
  for (const name of order) {
    const deps = Object.keys(project.services[name]?.dependsOn ?? {});
    depth.set(name, Math.max(-1, ...deps.map((d) => depth.get(d) ?? -1)) + 1);
  }
  return depth;
}
