// Where herd's cgroups go for each controller on this machine: the hierarchy that has the
// controller (a v1 mount of its own wins; else the v2 tree, where it is offered) and herd's
// directory in it, when herd may create cgroups there.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Hierarchy } from './cgroup-mounts.ts';
import type { Controller } from './cgroup-limits.ts';
import { enableForChildren } from './cgroup-v2.ts';
import { tryRmdir } from './replica-cgroup.ts';

export const CONTROLLERS: Controller[] = ['memory', 'cpu', 'pids'];

/** Where the cgroups of one controller go. */
export interface Place {
  hierarchy: Hierarchy;
  /** `…/herd`: holds one directory per project. */
  herdDir: string;
}

/** For each controller, the hierarchy that has it and where herd's cgroups go in it, for the
 * writable ones. A v1 mount of a controller wins; v2 serves the controllers it offers. */
export function findPlaces(hierarchies: Hierarchy[]): Map<Controller, Place> {
  const places = new Map<Controller, Place>();
  for (const c of CONTROLLERS) {
    const v1 = hierarchies.find((h) => h.version === 1 && h.controllers.includes(c));
    const v2 = hierarchies.find((h) => h.version === 2);
    const place = v1 ? v1Place(v1) : v2 ? v2Place(v2, c) : undefined;
    if (place) places.set(c, place);
  }
  return places;
}

function v1Place(h: Hierarchy): Place | undefined {
  const herdDir = path.join(h.ownDir, 'herd');
  return canMakeCgroupsIn(herdDir, () => true) ? { hierarchy: h, herdDir } : undefined;
}

function v2Place(h: Hierarchy, controller: Controller): Place | undefined {
  const base = h.ownIsRoot ? h.ownDir : path.dirname(h.ownDir);
  if (enableForChildren(base, [controller]).length === 0) return undefined;
  const herdDir = path.join(base, 'herd');
  const handsDown = () => enableForChildren(herdDir, [controller]).length > 0;
  return canMakeCgroupsIn(herdDir, handsDown) ? { hierarchy: h, herdDir } : undefined;
}

/** Whether herd may create cgroups in `herdDir` (and `check` holds once it exists); leaves no
 * directory behind that was not there: makeDir creates them when a replica needs one. */
function canMakeCgroupsIn(herdDir: string, check: () => boolean): boolean {
  const probe = path.join(herdDir, `probe.${process.pid}`);
  try {
    mkdirSync(probe, { recursive: true });
    return check();
  } catch {
    return false;
  } finally {
    tryRmdir(probe);
    tryRmdir(herdDir);
  }
}
