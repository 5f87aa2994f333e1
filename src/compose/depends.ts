// depends_on (list and long form) and the checks that need all services: unknown names and cycles.
import type { Checker } from './check.ts';
import type { Diagnostics } from './errors.ts';
import { join } from './interpolate-tree.ts';
import { DEPENDS_ON_KEYS } from './keys.ts';
import type { Dependency, DependencyCondition, Service } from './model.ts';
import type { CNode } from './yaml-source.ts';

const CONDITIONS: DependencyCondition[] = [
  'service_started',
  'service_healthy',
  'service_completed_successfully',
];

export interface DependsOnResult {
  deps: Record<string, Dependency>;
  /** Position of each dependency name, for later errors about unknown services. */
  nodes: Record<string, CNode>;
}

export function readDependsOn(node: CNode, path: string, c: Checker): DependsOnResult {
  const out: DependsOnResult = { deps: {}, nodes: {} };
  if (node.kind === 'seq') {
    node.items.forEach((item, i) => {
      const name = c.string(item, `${path}[${i}]`, 'a service name');
      if (name === undefined) return;
      out.deps[name] = { condition: 'service_started', required: true, restart: false };
      out.nodes[name] = item;
    });
    return out;
  }
  const map = c.map(node, path);
  if (!map) return out;
  for (const [name, e] of map.entries) {
    const p = join(path, name);
    const dep: Dependency = { condition: 'service_started', required: true, restart: false };
    out.nodes[name] = { ...e.value, pos: e.keyPos };
    const v = e.value;
    if (v.kind === 'scalar' && v.value === null) {
      out.deps[name] = dep;
      continue;
    }
    const m = c.map(v, p);
    if (!m) continue;
    c.keys(m, p, DEPENDS_ON_KEYS);
    const cond = m.entries.get('condition')?.value;
    if (cond) {
      const s = c.string(cond, join(p, 'condition'));
      if (s !== undefined && (CONDITIONS as string[]).includes(s))
        dep.condition = s as DependencyCondition;
      else if (s !== undefined) c.fail(cond, join(p, 'condition'), CONDITIONS.join(', '));
    }
    const req = m.entries.get('required')?.value;
    if (req) dep.required = c.bool(req, join(p, 'required')) ?? true;
    const rst = m.entries.get('restart')?.value;
    if (rst) dep.restart = c.bool(rst, join(p, 'restart')) ?? false;
    out.deps[name] = dep;
  }
  return out;
}

/**
 * Drops or reports dependencies on services that do not exist (or are disabled by profiles),
 * then reports dependency cycles. `disabled` maps a profile-disabled service to its profiles.
 */
export function checkDependencies(
  services: Record<string, Service>,
  nodes: Record<string, Record<string, CNode>>,
  disabled: Map<string, string[]>,
  diag: Diagnostics,
): void {
  for (const svc of Object.values(services)) {
    for (const [dep, spec] of Object.entries(svc.dependsOn)) {
      if (services[dep]) continue;
      const node = nodes[svc.name]?.[dep];
      const why = disabled.has(dep)
        ? `service "${dep}" is disabled by its profiles (${(disabled.get(dep) ?? []).join(', ')}); enable one with --profile`
        : `service "${dep}" is not defined`;
      if (spec.required) {
        diag.error(node?.pos, `services.${svc.name}.depends_on.${dep}`, `depends on ${why}`);
      } else {
        diag.warn(`service "${svc.name}": optional dependency skipped: ${why}`);
        delete svc.dependsOn[dep];
      }
    }
  }
  const cycle = findCycle(services);
  if (cycle) {
    const [from = '', to = ''] = cycle;
    diag.error(
      nodes[from]?.[to]?.pos,
      `services.${from}.depends_on`,
      `dependency cycle: ${cycle.join(' -> ')}`,
    );
  }
}

function findCycle(services: Record<string, Service>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): string[] | undefined => {
    const s = state.get(name);
    if (s === 'done') return undefined;
    if (s === 'visiting') return [...stack.slice(stack.indexOf(name)), name];
    state.set(name, 'visiting');
    stack.push(name);
    for (const dep of Object.keys(services[name]?.dependsOn ?? {})) {
      if (!services[dep]) continue;
      const found = visit(dep);
      if (found) return found;
    }
    stack.pop();
    state.set(name, 'done');
    return undefined;
  };
  for (const name of Object.keys(services)) {
    const found = visit(name);
    if (found) return found;
  }
  return undefined;
}
