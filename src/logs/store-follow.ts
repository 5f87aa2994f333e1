// Following the log store by polling the files: each live file is read through an open fd, so
// when it is rotated (renamed) the rest of it is still read before switching to the new file.
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import {
  byTime,
  parseRecord,
  selectRecords,
  type LogEntry,
  type LogQuery,
  type LogRecord,
} from './record.ts';
import { generationPath, generationsOldestFirst, type RotationPolicy } from './rotate.ts';

/** What following needs from the log store: where each replica's file is, and which replicas
 * the query selects. (An interface, so the store can build its follower without a cycle.) */
export interface FollowedStore {
  readonly policy: RotationPolicy;
  fileOf(name: string): string;
  serviceOf(name: string): string;
  matches(name: string, services?: string[]): boolean;
  names(): string[];
}

export interface Follower {
  close(): void;
}

interface Tracked {
  name: string;
  service: string;
  fd: number;
  ino: number;
  pos: number;
  partial: string;
}

function readFrom(t: Tracked): LogRecord[] {
  const out: LogRecord[] = [];
  const buf = Buffer.alloc(64 * 1024);
  for (;;) {
    const n = readSync(t.fd, buf, 0, buf.length, t.pos);
    if (n <= 0) break;
    t.pos += n;
    const text = t.partial + buf.subarray(0, n).toString('utf8');
    const lines = text.split('\n');
    t.partial = lines.pop() ?? '';
    for (const l of lines) {
      const r = l ? parseRecord(l) : undefined;
      if (r) out.push(r);
    }
  }
  return out;
}

function inodeOf(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

function readWhole(file: string): LogRecord[] {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return [];
  }
  try {
    return readFrom({ name: '', service: '', fd, ino: 0, pos: 0, partial: '' });
  } finally {
    closeSync(fd);
  }
}

/** Rotated generations newer than the one with inode `ino`, oldest first. When that one was
 * already dropped as the oldest, every remaining generation is newer. */
function newerGenerations(base: string, ino: number, maxFiles: number): string[] {
  let from = maxFiles;
  for (let n = 1; n < maxFiles; n++) if (inodeOf(generationPath(base, n)) === ino) from = n;
  const out: string[] = [];
  for (let m = from - 1; m >= 1; m--)
    if (inodeOf(generationPath(base, m)) !== undefined) out.push(generationPath(base, m));
  return out;
}

export function followStore(
  store: FollowedStore,
  q: LogQuery,
  onEntry: (e: LogEntry) => void,
  pollMs: number,
): Follower {
  const tracked = new Map<string, Tracked>();

  const open = (name: string): Tracked | undefined => {
    try {
      const fd = openSync(store.fileOf(name), 'r');
      const t = {
        name,
        service: store.serviceOf(name),
        fd,
        ino: fstatSync(fd).ino,
        pos: 0,
        partial: '',
      };
      tracked.set(name, t);
      return t;
    } catch {
      return undefined;
    }
  };

  // History: rotated generations by path, the live file through the fd we keep following.
  const history: LogEntry[] = [];
  for (const name of store.names()) {
    if (!store.matches(name, q.services)) continue;
    const base = store.fileOf(name);
    const older: LogRecord[] = [];
    for (const file of generationsOldestFirst(base, store.policy).filter((f) => f !== base))
      older.push(...readWhole(file));
    const t = open(name);
    const live = t ? readFrom(t) : [];
    for (const r of selectRecords([...older, ...live], q))
      history.push({ ...r, name, service: store.serviceOf(name) });
  }
  for (const e of byTime(history)) onEntry(e);

  const poll = () => {
    const fresh: LogEntry[] = [];
    const push = (t: Tracked, records: LogRecord[]) => {
      for (const r of records)
        if (q.since === undefined || r.t >= q.since)
          fresh.push({ ...r, name: t.name, service: t.service });
    };
    for (const t of [...tracked.values()]) {
      push(t, readFrom(t));
      const ino = inodeOf(store.fileOf(t.name));
      if (ino !== t.ino) {
        // Rotated (or removed): the old fd is drained; generations written after it (when it
        // rotated more than once since the last poll) are read whole, then the new live file.
        closeSync(t.fd);
        tracked.delete(t.name);
        for (const file of newerGenerations(store.fileOf(t.name), t.ino, store.policy.maxFiles))
          push(t, readWhole(file));
        if (ino !== undefined) {
          const n = open(t.name);
          if (n) push(n, readFrom(n));
        }
      }
    }
    for (const name of store.names()) {
      if (tracked.has(name) || !store.matches(name, q.services)) continue;
      const n = open(name); // a replica that started after we began following
      if (n) push(n, readFrom(n));
    }
    for (const e of byTime(fresh)) onEntry(e);
  };

  const timer = setInterval(poll, pollMs);
  return {
    close() {
      clearInterval(timer);
      for (const t of tracked.values()) closeSync(t.fd);
      tracked.clear();
    },
  };
}
