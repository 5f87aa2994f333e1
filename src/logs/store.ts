// Per-replica log files in the state dir: `logs/<replica>.log`, one JSON object per line
// ({t, stream, line}), rotated by size. The daemon writes them; `herd logs` reads them back.
import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import {
  defaultRotation,
  generationsOldestFirst,
  rotateFiles,
  type RotationPolicy,
} from './rotate.ts';
import {
  byTime,
  parseRecord,
  selectRecords,
  type LogEntry,
  type LogQuery,
  type LogRecord,
} from './record.ts';
import { followStore, type Follower } from './store-follow.ts';

export const LOG_SUFFIX = '.log';

/** Lines that could not be written (a full disk): `error` is set while writes fail, undefined
 * once they succeed again. */
export interface LogWriteTrouble {
  dropped: number;
  error?: string;
}

export class LogStore {
  readonly policy: RotationPolicy;
  private writers = new Map<string, { fd: number; size: number }>();
  /** Lines dropped since the daemon started because they could not be written. */
  dropped = 0;
  private failing = false;
  /** Replicas whose file may end in a part of a line (a write that failed half-way): the next
   * line starts on a new one, so only the torn line is lost. */
  private readonly torn = new Set<string>();

  constructor(
    readonly dir: string,
    readonly project: string,
    policy: Partial<RotationPolicy> = {},
    /** Called when writes start failing and when they work again (not for every lost line). */
    private readonly onTrouble?: (t: LogWriteTrouble) => void,
  ) {
    this.policy = { ...defaultRotation, ...policy };
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  fileOf(name: string): string {
    return join(this.dir, name + LOG_SUFFIX);
  }

  /** `<project>-<service>-<index>` → service. */
  serviceOf(name: string): string {
    const rest = name.startsWith(this.project + '-') ? name.slice(this.project.length + 1) : name;
    return rest.replace(/-\d+$/, '');
  }

  matches(name: string, services?: string[]): boolean {
    return !services || services.length === 0 || services.includes(this.serviceOf(name));
  }

  /** Stores one line; a line that cannot be written (ENOSPC, EIO…) is dropped and counted, never
   * thrown: replica output must not stop because the disk is full. */
  append(name: string, record: LogRecord): void {
    if (!/^[\w.-]+$/.test(name)) throw new Error(`invalid replica name for a log file: ${name}`);
    try {
      this.write(name, record);
    } catch (err) {
      this.dropped++;
      this.torn.add(name);
      // Reopened (and its size re-read) on the next line: a torn last line is skipped by readers.
      const w = this.writers.get(name);
      this.writers.delete(name);
      if (w) closeQuietly(w.fd);
      if (!this.failing) {
        this.failing = true;
        const e = err as NodeJS.ErrnoException;
        this.onTrouble?.({
          dropped: this.dropped,
          error: `${e.code ?? e.message} writing ${this.fileOf(name)}`,
        });
      }
      return;
    }
    if (this.failing) {
      this.failing = false;
      this.onTrouble?.({ dropped: this.dropped });
    }
  }

  private write(name: string, record: LogRecord): void {
    const start = this.torn.has(name) ? '\n' : '';
    const data = Buffer.from(start + JSON.stringify(record) + '\n');
    let w = this.writers.get(name);
    if (w && w.size > 0 && w.size + data.length > this.policy.maxBytes) {
      closeSync(w.fd);
      this.writers.delete(name);
      rotateFiles(this.fileOf(name), this.policy);
      w = undefined;
    }
    if (!w) {
      const fd = openSync(this.fileOf(name), 'a', 0o600);
      w = { fd, size: fstatSync(fd).size };
      this.writers.set(name, w);
      if (w.size > 0 && w.size + data.length > this.policy.maxBytes) {
        this.write(name, record); // an existing full file: rotate first
        return;
      }
    }
    const written = writeSync(w.fd, data);
    if (written > 0) this.torn.delete(name);
    w.size += written;
    // A full disk may take part of a line before it refuses the rest.
    if (written < data.length)
      throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
  }

  /** Replica names that have a live log file, sorted. */
  names(): string[] {
    let files: string[];
    try {
      files = readdirSync(this.dir);
    } catch {
      return [];
    }
    return files
      .filter((f) => f.endsWith(LOG_SUFFIX))
      .map((f) => f.slice(0, -LOG_SUFFIX.length))
      .sort();
  }

  /** One replica's records across all its generations, oldest first. */
  readReplica(name: string): LogRecord[] {
    const out: LogRecord[] = [];
    for (const file of generationsOldestFirst(this.fileOf(name), this.policy)) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        continue; // rotated away between listing and reading
      }
      for (const l of text.split('\n')) {
        const r = l ? parseRecord(l) : undefined;
        if (r) out.push(r);
      }
    }
    return out;
  }

  read(q: LogQuery = {}): LogEntry[] {
    const all: LogEntry[] = [];
    for (const name of this.names()) {
      if (!this.matches(name, q.services)) continue;
      const service = this.serviceOf(name);
      for (const r of selectRecords(this.readReplica(name), q)) all.push({ ...r, name, service });
    }
    return byTime(all);
  }

  /** History per `q`, then every new line as it is written (also from rotated and new files). */
  follow(q: LogQuery, onEntry: (e: LogEntry) => void, pollMs = 100): Follower {
    return followStore(this, q, onEntry, pollMs);
  }

  close(): void {
    for (const w of this.writers.values()) closeQuietly(w.fd);
    this.writers.clear();
  }

  /** Deletes every log (used by `down`). */
  removeAll(): void {
    this.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // close can report a failed delayed write (EIO, ENOSPC on some filesystems): nothing to do
  }
}
