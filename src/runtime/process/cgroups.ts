// Which cgroup hierarchy enforces each limit on this machine, and the cgroup of each replica start:
// `<own cgroup>/herd/<project>/<service>-<n>.<daemon pid>.<seq>` in every hierarchy it uses (v1:
// under this process's own cgroup of that hierarchy, so herd stays inside what it was given; v2:
// beside it, since a v2 cgroup holding processes cannot hand controllers down). A controller with
// no writable hierarchy is reported once, and the replica runs without it (memory falls back to
// polling in the runtime).
import { existsSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { HerdError } from '../../util/errors.ts';
import { pidExists } from '../../util/process-identity.ts';
import type { ReplicaSpec } from '../types.ts';
import { readHierarchies, type Hierarchy } from './cgroup-mounts.ts';
import { CONTROLLERS, findPlaces, type Place } from './cgroup-places.ts';
import {
  limitsOf,
  neededControllers,
  type CgroupLimits,
  type Controller,
  type Setting,
} from './cgroup-limits.ts';
import { v1Settings } from './cgroup-v1.ts';
import { enableForChildren, v2Settings } from './cgroup-v2.ts';
import { cgroupPids, ReplicaCgroup, tryRmdir, type CgroupDir } from './replica-cgroup.ts';

/** What goes unenforced without each controller, for the warning. */
const UNENFORCED: Record<Controller, string> = {
  memory: 'memory limits (memory, memswap_limit, mem_reservation) are',
  cpu: '`cpus` and `cpu_shares` are',
  pids: '`pids_limit` is',
};
/** An empty cgroup another live herd made this recently may be about to receive its replica. */
const SWEEP_MIN_AGE_MS = 30_000;

export type WarningSink = (message: string, key: string) => void;

export interface CgroupsOptions {
  /** The hierarchies to use (default: this machine's, as /proc shows them). */
  hierarchies?: () => Hierarchy[];
  /** Where a warning goes (default: herd's stderr, "herd: warning: …"). */
  warn?: (message: string) => void;
}

export class Cgroups {
  private places?: Map<Controller, Place>;
  private readonly warned = new Map<string, string>();
  private readonly sinks = new Set<WarningSink>();
  private readonly swept = new Set<string>();
  private seq = 0;

  constructor(private readonly opts: CgroupsOptions = {}) {}

  /** The controllers a replica's limits can be enforced with here. */
  available(): Controller[] {
    return [...this.discover().keys()];
  }

  /** Creates the cgroup of one replica start with its limits written, or undefined when there is
   * no writable hierarchy to put it in. Warns (once per controller) about limits that cannot be
   * enforced. Throws a HerdError when a limit cannot be written. */
  create(spec: ReplicaSpec): ReplicaCgroup | undefined {
    const places = this.discover();
    const limits = limitsOf(spec);
    const needed = neededControllers(limits);
    for (const [controller, keys] of needed)
      if (!places.has(controller)) this.warnMissing(controller, keys);
    // Every replica gets a memory cgroup where there is one: it finds what the replica leaves
    // behind, and counts OOM kills.
    const used = CONTROLLERS.filter((c) => places.has(c) && (c === 'memory' || needed.has(c)));
    if (used.length === 0) return undefined;
    this.sweepOnce(spec.project);
    const name = `${spec.service}-${spec.index}.${process.pid}.${++this.seq}`;
    const dirs: CgroupDir[] = [];
    try {
      for (const [hierarchy, controllers] of byHierarchy(used, places)) {
        const place = places.get(controllers[0] as Controller) as Place;
        const dir = this.makeDir(place, hierarchy, spec.project, name, controllers);
        dirs.push({ version: hierarchy.version, dir, controllers });
        this.apply(dir, settingsFor(hierarchy, controllers, limits));
      }
    } catch (err) {
      for (const d of dirs) tryRmdir(d.dir);
      throw new HerdError(
        `cannot set up the cgroup of ${spec.name}: ${(err as Error).message}`,
        'RUNTIME',
      );
    }
    return new ReplicaCgroup(dirs, () => this.tidyProject(spec.project));
  }

  /** Removes the replica cgroups that nobody will use again, except those this process made
   * (they go when their replica ends): in `project`, those made by a process that is gone (what
   * is left in them, e.g. a daemon a dead herd's replica double-forked, is killed first) or long
   * enough ago; in other projects, only the empty ones whose maker is gone. */
  async sweep(project: string): Promise<void> {
    const removals: Promise<unknown>[] = [];
    const projects = new Set<string>();
    for (const place of this.distinctPlaces()) {
      for (const name of listDir(place.herdDir)) {
        const projectDir = path.join(place.herdDir, name);
        projects.add(name);
        for (const entry of listDir(projectDir)) {
          const dir = path.join(projectDir, entry);
          const verdict = isReplicaDir(entry, dir)
            ? this.sweepable(entry, dir, name === project)
            : 'keep';
          if (verdict === 'kill')
            removals.push(
              new ReplicaCgroup([
                { version: place.hierarchy.version, dir, controllers: [] },
              ]).remove(),
            );
          else if (verdict === 'remove') tryRmdir(dir);
        }
      }
    }
    await Promise.all(removals);
    for (const name of projects) this.tidyProject(name);
  }

  /** Takes over the cgroups of processes a daemon that died started (adoption): each replica
   * directory of `project` that holds one of `pids` is renamed as if this process had made it (a
   * rename keeps its processes and limits), so sweep() keeps it and it goes when its replica
   * ends. Returns each claimed pid's cgroup. */
  claim(project: string, pids: number[]): Map<number, ReplicaCgroup> {
    const wanted = new Set(pids);
    const places = this.discover();
    const dirsOf = new Map<number, CgroupDir[]>();
    for (const place of this.distinctPlaces()) {
      const controllers = CONTROLLERS.filter((c) => places.get(c)?.herdDir === place.herdDir);
      const projectDir = path.join(place.herdDir, project);
      for (const entry of listDir(projectDir)) {
        const dir = path.join(projectDir, entry);
        const owner = isReplicaDir(entry, dir)
          ? cgroupPids(dir).find((pid) => wanted.has(pid))
          : undefined;
        if (owner === undefined) continue;
        const base = entry.replace(/\.\d+\.\d+$/, '');
        const mine = path.join(projectDir, `${base}.${process.pid}.${++this.seq}`);
        try {
          renameSync(dir, mine);
        } catch {
          continue; // not ours to rename: the replica is adopted without its cgroup's limits
        }
        const dirs = dirsOf.get(owner) ?? [];
        dirs.push({ version: place.hierarchy.version, dir: mine, controllers });
        dirsOf.set(owner, dirs);
      }
    }
    const claimed = new Map<number, ReplicaCgroup>();
    for (const [pid, dirs] of dirsOf)
      claimed.set(pid, new ReplicaCgroup(dirs, () => this.tidyProject(project)));
    return claimed;
  }

  private sweepOnce(project: string): void {
    if (this.swept.has(project)) return;
    this.swept.add(project);
    void this.sweep(project);
  }

  /** What to do with a replica cgroup found on disk: `kill` what is in it and remove it (this
   * project's, its maker gone), `remove` it if empty (made by a process that is gone, or in this
   * project long enough ago that it is not about to receive its replica), or `keep` it. */
  private sweepable(entry: string, dir: string, ownProject: boolean): 'kill' | 'remove' | 'keep' {
    const maker = Number(/\.(\d+)\.\d+$/.exec(entry)?.[1] ?? 0);
    if (maker === process.pid) return 'keep';
    if (!pidExists(maker)) return ownProject ? 'kill' : 'remove';
    if (!ownProject) return 'keep';
    try {
      return Date.now() - statSync(dir).mtimeMs > SWEEP_MIN_AGE_MS ? 'remove' : 'keep';
    } catch {
      return 'keep';
    }
  }

  /** Drops the project's directory (and herd's) once no replica cgroup is left in them. */
  private tidyProject(project: string): void {
    for (const place of this.distinctPlaces()) {
      if (tryRmdir(path.join(place.herdDir, project))) tryRmdir(place.herdDir);
    }
  }

  private makeDir(
    place: Place,
    hierarchy: Hierarchy,
    project: string,
    name: string,
    controllers: string[],
  ): string {
    const projectDir = path.join(place.herdDir, project);
    // Another herd may remove an empty herd/ or project dir between our mkdirs: try again.
    for (let attempt = 0; ; attempt++) {
      try {
        mkdirSync(projectDir, { recursive: true });
        if (hierarchy.version === 2) {
          enableForChildren(place.herdDir, controllers as Controller[]);
          enableForChildren(projectDir, controllers as Controller[]);
        }
        const dir = path.join(projectDir, name);
        mkdirSync(dir);
        return dir;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 3) throw err;
      }
    }
  }

  private apply(dir: string, settings: Setting[]): void {
    for (const s of settings) {
      const file = path.join(dir, s.file);
      if (s.optional && !existsSync(file)) {
        if (s.askedBy)
          this.warnOnce(
            `${s.askedBy} is not enforced: this kernel has no ${s.file} (swap accounting is off)`,
          );
        continue;
      }
      try {
        writeFileSync(file, s.value);
      } catch (err) {
        throw new Error(`writing ${s.value} to ${file}: ${(err as NodeJS.ErrnoException).code}`, {
          cause: err,
        });
      }
    }
  }

  /** One place per herd directory (v2 and co-mounted v1 controllers share one). */
  private distinctPlaces(): Place[] {
    const byDir = new Map<string, Place>();
    for (const place of this.discover().values()) byDir.set(place.herdDir, place);
    return [...byDir.values()];
  }

  private discover(): Map<Controller, Place> {
    this.places ??= findPlaces((this.opts.hierarchies ?? readHierarchies)());
    return this.places;
  }

  private warnMissing(controller: Controller, keys: string[]): void {
    const polled =
      controller === 'memory' && keys.includes('memory limit')
        ? '; a memory limit is checked by polling every 500 ms instead (a fast-growing process ' +
          'can overshoot it)'
        : '';
    this.warnOnce(
      `no writable cgroup has the ${controller} controller (cgroup v2 or v1), so ` +
        `${UNENFORCED[controller]} not enforced by the kernel for process replicas${polled}`,
      controller,
    );
  }

  /** Says `message` once in this process's life (per `key`). */
  warnOnce(message: string, key = message): void {
    if (this.warned.has(key)) return;
    this.warned.set(key, message);
    (this.opts.warn ?? ((m) => process.stderr.write(`herd: warning: ${m}\n`)))(message);
    for (const sink of [...this.sinks]) sink(message, key);
  }

  /** Tells `sink` every warning as well, those said already first: a detached daemon's stderr
   * is its log, which nobody reads, so it lists them in `ps` and `events`. Returns the undo. */
  onWarning(sink: WarningSink): () => void {
    for (const [key, message] of this.warned) sink(message, key);
    this.sinks.add(sink);
    return () => this.sinks.delete(sink);
  }
}

/** The controllers grouped by the hierarchy that enforces them (v2: all in one). */
function byHierarchy(used: Controller[], places: Map<Controller, Place>): [Hierarchy, string[]][] {
  const groups = new Map<Hierarchy, string[]>();
  for (const c of used) {
    const h = (places.get(c) as Place).hierarchy;
    groups.set(h, [...(groups.get(h) ?? []), c]);
  }
  return [...groups.entries()];
}

function settingsFor(h: Hierarchy, controllers: string[], limits: CgroupLimits): Setting[] {
  if (h.version === 2) return v2Settings(limits, controllers as Controller[]);
  return controllers.flatMap((c) => v1Settings(c as Controller, limits));
}

/** `<service>-<n>.<pid>.<seq>`, a directory: what create() names a replica's cgroup. */
function isReplicaDir(entry: string, dir: string): boolean {
  if (!/\.\d+\.\d+$/.test(entry)) return false;
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** The one manager of this process: discovery and warnings happen once per daemon. */
export const cgroups = new Cgroups();
