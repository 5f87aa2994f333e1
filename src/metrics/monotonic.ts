// Counters that never go backwards. What herd reads (the balancer's per-replica counts, a process
// group's CPU time, restarts counted since this daemon started) starts again from zero when a
// replica, a proxy worker or the daemon restarts; Prometheus would see each such drop as a reset
// and a rate() spike. So every series keeps a base: when a raw value drops, the base grows by the
// drop, which keeps the exported value where it was (exported = base + raw). Bases and last raw
// values are saved in the state dir after every sample, so a new daemon carries on from them.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

interface Entry {
  base: number;
  last: number;
  /** Loaded from an earlier daemon and not read since. */
  loaded?: boolean;
}

const VERSION = 1;

export class MonotonicStore {
  private readonly series = new Map<string, Entry>();
  private dirty = false;

  /** `file`: where to keep the bases (undefined: in memory only). */
  constructor(private readonly file?: string) {
    if (file) this.load(file);
  }

  /** The exported value of series `key` whose raw reading is now `raw`. `whole`: the source is
   * one process, so a drop means all of `raw` is new (a replica's CPU time after it restarted). */
  value(key: string, raw: number, whole = false): number {
    let e = this.series.get(key);
    if (!e) {
      e = { base: 0, last: 0 };
      this.series.set(key, e);
    }
    // Below the last value: counted from zero again. Right after a daemon restart the whole
    // source restarted (what it reads now is all new), as a single process's counter always does;
    // otherwise a drop may be one proxy worker of several, so the exported value holds where it
    // was and grows from there.
    if (raw < e.last) e.base += e.loaded || whole ? e.last : e.last - raw;
    e.loaded = false;
    if (raw !== e.last) this.dirty = true;
    e.last = raw;
    return e.base + raw;
  }

  /** Every series seen so far (now or by an earlier daemon), with its exported value: a replica
   * scaled away keeps its last count, so a sum over replicas never drops either. */
  entries(): [string, number][] {
    return [...this.series].map(([k, e]) => [k, e.base + e.last]);
  }

  /** Writes the bases when something changed (write then rename: never a half file). A write
   * that fails (a full disk) throws; the bases stay marked unsaved, so the next save retries. */
  save(): void {
    if (!this.file || !this.dirty) return;
    const tmp = join(dirname(this.file), `.${basename(this.file)}.${process.pid}.tmp`);
    const series = Object.fromEntries([...this.series].map(([k, e]) => [k, [e.base, e.last]]));
    try {
      writeFileSync(tmp, JSON.stringify({ version: VERSION, series }), { mode: 0o600 });
      renameSync(tmp, this.file);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
    this.dirty = false;
  }

  /** Forgets the saved bases (the stack is gone: a new one counts from zero). */
  remove(): void {
    if (this.file) rmSync(this.file, { force: true });
    this.series.clear();
    this.dirty = false;
  }

  private load(file: string): void {
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      return; // none yet, or unreadable: counting starts from zero
    }
    const series = (data as { version?: number; series?: unknown }).series;
    if ((data as { version?: number }).version !== VERSION || typeof series !== 'object') return;
    for (const [key, v] of Object.entries(series as Record<string, unknown>)) {
      if (!Array.isArray(v) || v.length !== 2) continue;
      const [base, last] = v as unknown[];
      if (typeof base === 'number' && typeof last === 'number' && base >= 0 && last >= 0)
        this.series.set(key, { base, last, loaded: true });
    }
  }
}
