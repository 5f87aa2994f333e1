// Where this machine's cgroup hierarchies are mounted and where this process sits in each, read
// from /proc/self/mountinfo and /proc/self/cgroup. A controller lives in exactly one hierarchy: a
// v1 mount of its own (`cpu`, `memory`, or co-mounted `cpu,cpuacct`), or the v2 unified tree.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface Hierarchy {
  version: 1 | 2;
  /** Where it is mounted, e.g. /sys/fs/cgroup/memory. */
  mountPoint: string;
  /** Controllers bound to it (v1: from the mount options; v2: filled in from cgroup.controllers). */
  controllers: string[];
  /** Directory of this process's own cgroup in it. */
  ownDir: string;
  /** This process's cgroup is the hierarchy's root (as far as this mount shows). */
  ownIsRoot: boolean;
}

interface CgroupMount {
  version: 1 | 2;
  /** The cgroup the mount shows at its mount point ("/" unless a subtree is mounted). */
  root: string;
  mountPoint: string;
  controllers: string[];
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescapeMount(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** The cgroup (v1 "cgroup", v2 "cgroup2") mounts listed in a mountinfo text. */
export function parseCgroupMounts(mountinfo: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of mountinfo.split('\n')) {
    // id parent major:minor root mount-point options [optional…] - fstype source super-options
    const [left, right] = line.split(' - ');
    if (left === undefined || right === undefined) continue;
    const fields = left.split(' ');
    const [fstype, , superOptions = ''] = right.split(' ');
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const root = unescapeMount(fields[3] ?? '/');
    const mountPoint = unescapeMount(fields[4] ?? '');
    if (mountPoint === '') continue;
    const controllers =
      fstype === 'cgroup'
        ? superOptions.split(',').filter((o) => /^[a-z_]+$/.test(o) && !V1_NON_CONTROLLERS.has(o))
        : [];
    mounts.push({ version: fstype === 'cgroup' ? 1 : 2, root, mountPoint, controllers });
  }
  return mounts;
}

/** v1 mount options that are not controller names. */
const V1_NON_CONTROLLERS = new Set(['rw', 'ro', 'noprefix', 'clone_children', 'xattr', 'none']);

/** /proc/self/cgroup: hierarchy key (v1: its controllers joined by ","; v2: "") → cgroup path. */
export function parseProcCgroup(text: string): Map<string, string> {
  const paths = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (m) paths.set(m[1] as string, m[2] as string);
  }
  return paths;
}

/** The directory of cgroup `cgroupPath` under a mount that shows cgroup `root` at its mount
 * point; the mount point itself when the path lies outside what the mount shows. */
function dirOf(mount: CgroupMount, cgroupPath: string): { dir: string; isRoot: boolean } {
  const rel = path.posix.relative(mount.root, cgroupPath);
  if (rel.startsWith('..')) return { dir: mount.mountPoint, isRoot: true };
  return { dir: path.join(mount.mountPoint, rel), isRoot: rel === '' };
}

/** Every hierarchy this process can see, with its own cgroup's directory in each; v2's controllers
 * are left for the caller to read (they depend on which cgroup asks). */
export function findHierarchies(mountinfo: string, procCgroup: string): Hierarchy[] {
  const own = parseProcCgroup(procCgroup);
  const seen = new Set<string>();
  const found: Hierarchy[] = [];
  for (const mount of parseCgroupMounts(mountinfo)) {
    const key = mount.version === 2 ? '' : mount.controllers.join(',');
    // A named v1 hierarchy (name=systemd) has no controllers: nothing to limit there.
    if (mount.version === 1 && mount.controllers.length === 0) continue;
    // The same hierarchy may be mounted twice; the first mount will do.
    if (seen.has(key)) continue;
    const cgroupPath =
      own.get(key) ??
      [...own.entries()].find(([k]) => k.split(',').sort().join(',') === sorted(key))?.[1];
    if (cgroupPath === undefined) continue;
    seen.add(key);
    const { dir, isRoot } = dirOf(mount, cgroupPath);
    found.push({
      version: mount.version,
      mountPoint: mount.mountPoint,
      controllers: mount.controllers,
      ownDir: dir,
      ownIsRoot: isRoot,
    });
  }
  return found;
}

function sorted(key: string): string {
  return key.split(',').sort().join(',');
}

/** The hierarchies of this machine as this process sees them ([] where /proc cannot be read). */
export function readHierarchies(): Hierarchy[] {
  try {
    return findHierarchies(
      readFileSync('/proc/self/mountinfo', 'utf8'),
      readFileSync('/proc/self/cgroup', 'utf8'),
    );
  } catch {
    return [];
  }
}
