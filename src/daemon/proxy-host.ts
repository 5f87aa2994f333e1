// The daemon's side of its proxy process group: starting it (or keeping the one a daemon that
// died left serving), its priority against the replicas, its counters for `ps`, and killing it
// when an exit cannot wait.
import os from 'node:os';
import type { Project } from '../compose/model.ts';
import { scaleToZeroHold } from '../engine/autoscaler-idle.ts';
import { createProxy, type Proxy } from '../proxy/index.ts';
import type { ReplicaTraffic } from './api-types.ts';
import type { DaemonPaths } from './paths.ts';

/** The proxy's nice value if the system lets it be raised (CAP_SYS_NICE), as nginx's
 * worker_priority; otherwise yieldToProxy() lowers this process and so the replicas. */
const PROXY_NICE = -5;
/** How much lower than the proxy the replicas run when the proxy could not be raised. */
const REPLICA_NICE_STEP = 5;

/** How a detached daemon is started again (by its proxy, when the daemon died). */
export interface Revive {
  argv: string[];
  cwd: string;
}

/** The data plane as a process group of its own (control socket in the state dir), so nothing
 * this process does — spawning, probing, a GC pause — delays a request, and it serves on when
 * this process dies (and, given `revive`, starts the daemon again). */
export async function openProxy(
  project: Project,
  paths: DaemonPaths,
  revive: Revive | undefined,
): Promise<Proxy> {
  const proxy = createProxy(project, {
    process: {
      dir: paths.dir,
      nice: PROXY_NICE,
      ...(revive ? { revive: { ...revive, log: paths.daemonLog } } : {}),
    },
    holdFor: scaleToZeroHold,
  });
  try {
    await proxy.listen();
  } catch (err) {
    await proxy.close().catch(() => undefined);
    throw err;
  }
  yieldToProxy(proxy);
  return proxy;
}

/** Replicas inherit this process's priority: when the proxy could not be raised above it, this
 * process (the control plane) steps down instead, so the replicas it starts from now on run at a
 * lower priority than the proxy and a hundred of them booting cannot starve it of CPU. Under
 * autogroup scheduling (util/autogroup.ts) a process's nice weighs only inside its session and
 * each replica has its own: there the proxy's session nice (primary-main.ts) and the replicas'
 * low priority while they boot (runtime/process/boot-priority.ts) are what count. */
function yieldToProxy(proxy: Proxy): void {
  const pid = proxy.primaryPid();
  if (pid === undefined) return;
  try {
    const mine = os.getPriority();
    if (os.getPriority(pid) < mine) return;
    os.setPriority(Math.min(19, mine + REPLICA_NICE_STEP));
  } catch {
    // the proxy is gone or priorities are not ours to change: nothing to yield
  }
}

/** The proxy's whole process group at once (its primary leads a session of its own), for an
 * exit that cannot wait for it to close. */
export function killProxy(proxy: Proxy): void {
  const pid = proxy.primaryPid();
  try {
    if (pid !== undefined) process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** The balancer's per-replica counters, for `ps`: asked of the proxy processes now, so a request
 * answered just before `ps` is counted (the pushed copy may be ~250 ms old). */
export async function trafficOf(proxy: Proxy): Promise<Map<string, ReplicaTraffic>> {
  return new Map(
    (await proxy.counters()).map((t) => [
      t.replica,
      {
        requests: t.requests,
        errors: t.errors,
        inFlight: t.inFlight,
        connections: t.connections,
        latencyBuckets: t.latencyBuckets,
      },
    ]),
  );
}
