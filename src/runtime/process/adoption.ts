// What a daemon that died left running, for the one that takes over: each process replica it
// recorded (replica-record.ts) that is still the very process it started (PID + kernel start
// time + herd's environment for this project and service) is offered to the engine slot it
// belongs to, with its cgroup claimed before anything sweeps it. A reused PID is never adopted;
// a replica that ended meanwhile only leaves its last output, which goes to the log store.
import { isHerdProcess, isSameProcess } from '../../util/process-identity.ts';
import type { OutputStream, ReplicaSpec } from '../types.ts';
import { AdoptedReplica } from './adopted-replica.ts';
import type { Cgroups } from './cgroups.ts';
import type { ReplicaCgroup } from './replica-cgroup.ts';
import { readRecords, type ReplicaRecord } from './replica-record.ts';

/** How a replica nobody takes over is stopped (its service is gone, stopped or scaled down). */
const LEFTOVER_SIGNAL: NodeJS.Signals = 'SIGTERM';
const LEFTOVER_GRACE_MS = 10_000;

export interface AdoptionOptions {
  /** The process runtime's output dir (its records are there too). */
  dir: string;
  project: string;
  cgroups: Cgroups;
  /** Services that run as processes now: a record of any other service is stopped at once. */
  processServices: ReadonlySet<string>;
  /** Where output goes that no engine replica will carry: the log store. */
  sink: (name: string, stream: OutputStream, line: string) => void;
}

interface Candidate {
  record: ReplicaRecord;
  /** Still the process that was started (else it ended while no daemon watched). */
  alive: boolean;
  cgroup?: ReplicaCgroup;
}

const slotKey = (service: string, index: number) => `${service}#${index}`;

export class AdoptionPool {
  private readonly waiting = new Map<string, Candidate>();
  /** Replicas of services the file no longer runs as processes, and duplicates of a slot. */
  private readonly unwanted: Candidate[] = [];

  private constructor(private readonly opts: AdoptionOptions) {}

  /** Reads the records, keeps the live ones (claiming their cgroups) and passes on the output of
   * the ones that ended. Call before anything sweeps cgroups or stops orphans. */
  static load(opts: AdoptionOptions): AdoptionPool {
    const pool = new AdoptionPool(opts);
    const records = readRecords(opts.dir, opts.project);
    const alive = (r: ReplicaRecord) =>
      isSameProcess(r.pid, r.startTime) && isHerdProcess(r.pid, opts.project, r.service);
    const live = new Set(records.filter(alive));
    const cgroups = opts.cgroups.claim(
      opts.project,
      [...live].map((r) => r.pid),
    );
    // The newest first: a slot's older process (a rollout's predecessor) is the duplicate.
    records.sort((a, b) => Number(live.has(b)) - Number(live.has(a)) || b.startedAt - a.startedAt);
    for (const record of records) {
      const c: Candidate = { record, alive: live.has(record), cgroup: cgroups.get(record.pid) };
      const key = slotKey(record.service, record.index);
      if (!opts.processServices.has(record.service) || pool.waiting.has(key)) pool.unwanted.push(c);
      else pool.waiting.set(key, c);
    }
    return pool;
  }

  /** PIDs offered for adoption (not to be stopped as orphans). */
  pids(): number[] {
    return [...this.waiting.values()].filter((c) => c.alive).map((c) => c.record.pid);
  }

  get size(): number {
    return this.waiting.size;
  }

  /** The replica of `spec`'s slot, taken over, when it runs the definition `spec` has — one that
   * ended while no daemon watched comes back as a replica that has just exited, so the engine
   * applies its restart policy. One that runs another definition is stopped (its output kept)
   * and undefined returned: start a new one. */
  async take(spec: ReplicaSpec): Promise<AdoptedReplica | undefined> {
    const key = slotKey(spec.service, spec.index);
    const c = this.waiting.get(key);
    if (!c) return undefined;
    this.waiting.delete(key);
    const handle = this.handleOf(c, spec.stopSignal, spec.stopGracePeriodMs);
    if (spec.definition !== undefined && c.record.definition === spec.definition) return handle;
    this.toLogs(c.record.name, handle);
    await handle.stop();
    return undefined;
  }

  private handleOf(c: Candidate, stopSignal: NodeJS.Signals, graceMs: number): AdoptedReplica {
    return new AdoptedReplica(c.record, {
      dir: this.opts.dir,
      cgroup: c.cgroup,
      stopSignal,
      stopGracePeriodMs: graceMs,
      alive: c.alive,
    });
  }

  /** Stops what nobody took over (and the duplicates), keeping their output: at the end of the
   * first `up`, and before `down`. */
  async releaseUnclaimed(): Promise<string[]> {
    const all = [...this.unwanted, ...this.waiting.values()];
    this.unwanted.length = 0;
    this.waiting.clear();
    await Promise.all(
      all.map((c) => {
        const handle = this.handleOf(c, LEFTOVER_SIGNAL, LEFTOVER_GRACE_MS);
        this.toLogs(c.record.name, handle);
        return handle.stop();
      }),
    );
    return all.map((c) => c.record.name);
  }

  private toLogs(name: string, handle: AdoptedReplica): void {
    handle.onOutput((stream, line) => this.opts.sink(name, stream, line));
  }
}
