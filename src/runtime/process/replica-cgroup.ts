// The cgroup(s) of one replica start: one directory per hierarchy it uses (v1 has one hierarchy
// per controller; v2 one in all). Joining, finding what runs in it, reading its OOM kills, and
// removing it once the replica ended.
import { readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { v1OomKills } from './cgroup-v1.ts';
import { v2OomKills } from './cgroup-v2.ts';

export interface CgroupDir {
  version: 1 | 2;
  dir: string;
  /** The controllers this directory enforces for the replica. */
  controllers: string[];
}

/** How long to keep trying to remove a cgroup whose last processes are still exiting. */
const REMOVE_MS = 2_000;
const REMOVE_STEP_MS = 20;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Pids listed in a cgroup directory's cgroup.procs ([] when it is gone). */
export function cgroupPids(dir: string): number[] {
  try {
    return readFileSync(path.join(dir, 'cgroup.procs'), 'utf8')
      .split('\n')
      .filter((l) => /^\d+$/.test(l))
      .map(Number);
  } catch {
    return [];
  }
}

export class ReplicaCgroup {
  private removed = false;

  constructor(
    readonly dirs: CgroupDir[],
    /** Called once the directories are gone (the manager tidies the project's directory). */
    private readonly onRemoved: () => void = () => undefined,
  ) {}

  /** Whether the kernel enforces `controller` for this replica. */
  enforces(controller: string): boolean {
    return this.dirs.some((d) => d.controllers.includes(controller));
  }

  /** Moves process `pid` into every directory; throws the first failure. */
  join(pid: number): void {
    for (const d of this.dirs) writeFileSync(path.join(d.dir, 'cgroup.procs'), String(pid));
  }

  /** Every process in the replica's cgroup, wherever in (or out of) its process group it went. */
  members(): number[] {
    return [...new Set(this.dirs.flatMap((d) => cgroupPids(d.dir)))];
  }

  /** SIGKILL to everything still in the cgroup (a daemon the replica double-forked included). */
  killAll(): void {
    for (const pid of this.members()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // exited meanwhile
      }
    }
  }

  /** Freezes (or thaws) the replica through cgroup v2's `cgroup.freeze`; false when no
   * directory offers it (v1, or a kernel before 5.2). */
  freeze(on: boolean): boolean {
    const v2 = this.dirs.filter((d) => d.version === 2);
    try {
      for (const d of v2) writeFileSync(path.join(d.dir, 'cgroup.freeze'), on ? '1' : '0');
    } catch {
      // No freezer here (or not ours to write): the caller signals the group instead.
      return false;
    }
    return v2.length > 0;
  }

  /** OOM kills the kernel made in the replica's memory cgroup. */
  oomKills(): number {
    const memory = this.dirs.find((d) => d.controllers.includes('memory'));
    if (!memory) return 0;
    return memory.version === 2 ? v2OomKills(memory.dir) : v1OomKills(memory.dir);
  }

  /** Kills what is left and removes the directories, waiting (briefly) for dying processes. */
  async remove(): Promise<void> {
    if (this.removed) return;
    this.removed = true;
    const until = Date.now() + REMOVE_MS;
    let left = this.dirs;
    for (;;) {
      this.killAll();
      left = left.filter((d) => !tryRmdir(d.dir));
      if (left.length === 0 || Date.now() >= until) break;
      await sleep(REMOVE_STEP_MS);
    }
    this.onRemoved();
  }
}

/** Removes an (empty) cgroup directory; true when it is gone. */
export function tryRmdir(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}
