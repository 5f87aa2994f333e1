// What the process runtime keeps on disk about each replica it started, beside its captured
// output: enough for a later daemon (this one died) to find the process again and prove it is
// the same one (PID + kernel start time + herd's environment), to know the definition it runs and
// the port it listens on. Written when the replica starts, removed when it has ended.
import {
  closeSync,
  constants as fsConstants,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

export interface ReplicaRecord {
  project: string;
  service: string;
  index: number;
  /** The runtime name (`<project>-<service>-<n>`, or a rollout's `-next`). */
  name: string;
  pid: number;
  /** /proc/<pid>/stat field 22 at start. */
  startTime: number;
  /** Hash of the service definition it was started from (engine/service-hash.ts). */
  definition?: string;
  /** The PORT it was given. */
  port?: number;
  startedAt: number;
}

const SUFFIX = '.replica.json';

export function recordFile(dir: string, name: string): string {
  return join(dir, name + SUFFIX);
}

/** Writes the record atomically (a temp file renamed over it), never through a planted link.
 * A record that cannot be written (a full disk) only costs adoption: reported by the caller. */
export function writeRecord(dir: string, record: ReplicaRecord): void {
  const file = recordFile(dir, record.name);
  const tmp = `${file}.${process.pid}.tmp`;
  rmSync(tmp, { force: true });
  const fd = openSync(
    tmp,
    fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW,
    0o600,
  );
  try {
    writeSync(fd, JSON.stringify(record) + '\n');
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

export function removeRecord(dir: string, name: string): void {
  rmSync(recordFile(dir, name), { force: true });
}

/** Every readable record of `project` in `dir`; torn or foreign files are skipped. */
export function readRecords(dir: string, project: string): ReplicaRecord[] {
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    return [];
  }
  const out: ReplicaRecord[] = [];
  for (const f of files) {
    if (!f.endsWith(SUFFIX)) continue;
    const r = parseRecord(join(dir, f));
    if (r && r.project === project && f === r.name + SUFFIX) out.push(r);
  }
  return out;
}

function parseRecord(file: string): ReplicaRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as Partial<ReplicaRecord>;
    const ok =
      typeof r.project === 'string' &&
      typeof r.service === 'string' &&
      typeof r.name === 'string' &&
      /^[\w.-]+$/.test(r.name) &&
      Number.isInteger(r.index) &&
      Number.isInteger(r.pid) &&
      (r.pid ?? 0) > 1 &&
      Number.isInteger(r.startTime);
    return ok ? (r as ReplicaRecord) : undefined;
  } catch {
    return undefined;
  }
}
