// One stored log line and the queries over them: shared by the store that writes and reads the
// files and the follower that tails them.
import type { OutputStream } from '../runtime/types.ts';

export interface LogRecord {
  /** Epoch milliseconds. */
  t: number;
  stream: OutputStream;
  line: string;
}

export interface LogEntry extends LogRecord {
  /** Replica name, `<project>-<service>-<index>`. */
  name: string;
  service: string;
}

export interface LogQuery {
  /** Only these services (all when empty/undefined). */
  services?: string[];
  /** Last N lines per replica, as `docker compose logs --tail` counts. */
  tail?: number;
  /** Only lines at or after this epoch-ms time. */
  since?: number;
}

/** Parses one stored line; undefined for a torn or foreign line. */
export function parseRecord(text: string): LogRecord | undefined {
  try {
    const r = JSON.parse(text) as Partial<LogRecord>;
    if (typeof r.t !== 'number' || typeof r.line !== 'string') return undefined;
    return { t: r.t, stream: r.stream === 'stderr' ? 'stderr' : 'stdout', line: r.line };
  } catch {
    return undefined;
  }
}

/** Applies `since` and `tail` to one replica's records (already in write order). */
export function selectRecords<T extends LogRecord>(records: T[], q: LogQuery): T[] {
  let out = q.since === undefined ? records : records.filter((r) => r.t >= q.since!);
  if (q.tail !== undefined && q.tail >= 0) out = q.tail === 0 ? [] : out.slice(-q.tail);
  return out;
}

/** Stable merge of several replicas' entries by time. */
export function byTime(entries: LogEntry[]): LogEntry[] {
  return entries
    .map((e, i) => ({ e, i }))
    .sort((a, b) => a.e.t - b.e.t || a.i - b.i)
    .map((x) => x.e);
}
