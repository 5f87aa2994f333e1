// The service-level resource keys (`cpus`, `cpu_shares`, `mem_limit`, `mem_reservation`,
// `memswap_limit`, `pids_limit`) and the rules between resource values that Docker only checks
// when it creates a container, checked here at load so a bad file fails with file:line:col.
import type { Checker } from './check.ts';
import { readSize } from './durations.ts';
import { join } from './interpolate-tree.ts';
import type { Resources, Service } from './model.ts';
import type { CMap, CNode } from './yaml-source.ts';

/** Docker's range for cpu_shares. */
const MAX_CPU_SHARES = 262_144;

/** Reads one service-level resource key into `into` (deploy.resources overrides it later). */
export function readServiceResource(
  key: string,
  v: CNode,
  p: string,
  c: Checker,
  into: Resources,
): void {
  if (key === 'cpus') {
    const n = cpusOf(v);
    if (n !== undefined) into.limits.cpus = n;
    else c.fail(v, p, 'a number of CPUs such as 0.5 or "2"');
  } else if (key === 'pids_limit') {
    // -1 means unlimited in Compose.
    if (v.kind === 'scalar' && (v.value === -1 || v.value === '-1')) return;
    const n = c.int(v, p, 'a number of processes, or -1 for unlimited');
    if (n !== undefined) into.limits.pids = n;
  } else if (key === 'cpu_shares') {
    const n = c.int(v, p, `a CPU weight from 2 to ${MAX_CPU_SHARES} (1024 is the default)`);
    if (n !== undefined && n > MAX_CPU_SHARES)
      c.fail(v, p, `a CPU weight from 2 to ${MAX_CPU_SHARES} (1024 is the default)`);
    // 0 is Docker's "not set".
    else if (n !== undefined && n > 0) into.cpuShares = n;
  } else if (key === 'memswap_limit') {
    if (v.kind === 'scalar' && (v.value === -1 || v.value === '-1')) into.memswapBytes = -1;
    else {
      const b = readSize(v, p, c);
      if (b !== undefined && b > 0) into.memswapBytes = b;
    }
  } else {
    const b = readSize(v, p, c);
    // 0 means "no limit" to Docker; see readResourceSet.
    if (b !== undefined && b > 0)
      into[key === 'mem_limit' ? 'limits' : 'reservations'].memoryBytes = b;
  }
}

function cpusOf(v: CNode): number | undefined {
  const raw = v.kind === 'scalar' ? v.value : undefined;
  const n =
    typeof raw === 'number'
      ? raw
      : typeof raw === 'string' && raw.trim() !== ''
        ? Number(raw)
        : NaN;
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** The node at `keys` under `map`, if every step is a mapping that has it. */
function nodeAt(map: CMap, keys: string[]): CNode | undefined {
  let node: CNode | undefined = map;
  for (const k of keys) node = node?.kind === 'map' ? node.entries.get(k)?.value : undefined;
  return node;
}

/** Docker's rules between the memory values, once deploy.resources and the service-level keys
 * are merged: memswap_limit counts memory plus swap, so it needs a memory limit and cannot be
 * below it; a reservation above the limit could never be met. */
export function checkResources(svc: Service, map: CMap, p: string, c: Checker): void {
  const { limits, reservations, memswapBytes } = svc.resources;
  const limitText = 'the memory limit (mem_limit or deploy.resources.limits.memory)';
  const memswap = nodeAt(map, ['memswap_limit']);
  if (memswap && memswapBytes !== undefined && memswapBytes > 0) {
    if (limits.memoryBytes === undefined)
      c.diag.error(
        memswap.pos,
        join(p, 'memswap_limit'),
        `needs ${limitText}: it is memory plus swap (use -1 for unlimited swap)`,
      );
    else if (memswapBytes < limits.memoryBytes)
      c.diag.error(
        memswap.pos,
        join(p, 'memswap_limit'),
        `is ${memswapBytes} bytes, below ${limitText} of ${limits.memoryBytes} bytes: ` +
          'it is memory plus swap, so at least the memory limit',
      );
  }
  if (
    reservations.memoryBytes !== undefined &&
    limits.memoryBytes !== undefined &&
    reservations.memoryBytes > limits.memoryBytes
  ) {
    const deployPath = ['deploy', 'resources', 'reservations', 'memory'];
    const fromDeploy = nodeAt(map, deployPath);
    const node = fromDeploy ?? nodeAt(map, ['mem_reservation']);
    if (node)
      c.diag.error(
        node.pos,
        join(p, fromDeploy ? deployPath.join('.') : 'mem_reservation'),
        `is ${reservations.memoryBytes} bytes, above ${limitText} of ${limits.memoryBytes} bytes`,
      );
  }
}
