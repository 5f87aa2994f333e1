// A process replica this daemon did not start: a daemon that died started it, and this one took it
// over (adoption.ts) instead of restarting it. It is not our child, so its exit is seen by
// watching /proc (the PID with its start time) and its exit code cannot be known; its output is
// read from the files it has written to all along (output-files.ts).
import { isSameProcess, leftoverMembers } from '../../util/process-identity.ts';
import type { ExitInfo, OutputStream, ReplicaHandle } from '../types.ts';
import { freezeGroup, killGroup, stopGroup } from './group-control.ts';
import { OutputTail } from './output-files.ts';
import { OutputRelay } from './output-relay.ts';
import type { ReplicaCgroup } from './replica-cgroup.ts';
import { removeRecord, type ReplicaRecord } from './replica-record.ts';

/** How often /proc is read to see whether the process still runs; faster while it stops. */
const WATCH_MS = 200;
const STOPPING_WATCH_MS = 25;

export interface AdoptedOptions {
  /** Where its output files and its record are. */
  dir: string;
  cgroup?: ReplicaCgroup;
  stopSignal: NodeJS.Signals;
  stopGracePeriodMs: number;
  /** false: it ended while no daemon watched (only its last output is left to read). */
  alive: boolean;
}

export class AdoptedReplica implements ReplicaHandle {
  readonly id: string;
  readonly pid: number;
  readonly address?: { host: string; port: number };
  readonly exited: Promise<ExitInfo>;
  private resolveExit!: (info: ExitInfo) => void;
  private done = false;
  private watchTimer?: NodeJS.Timeout;
  private readonly tail: OutputTail;
  private readonly output = new OutputRelay();
  /** OOM kills its cgroup counted before adoption: only later ones ended it. */
  private readonly oomKillsBefore: number;

  constructor(
    private readonly record: ReplicaRecord,
    private readonly opts: AdoptedOptions,
  ) {
    this.pid = record.pid;
    this.id = String(record.pid);
    if (record.port !== undefined) this.address = { host: '127.0.0.1', port: record.port };
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
    this.oomKillsBefore = opts.cgroup?.oomKills() ?? 0;
    // Continues after what the daemon that died had already passed on.
    this.tail = new OutputTail(opts.dir, record.name, this.output.emit, { resume: true });
    if (opts.alive) this.watch(WATCH_MS);
    else void this.ended();
  }

  private watch(everyMs: number): void {
    clearInterval(this.watchTimer);
    // leading() ends it once the process adopted is gone.
    this.watchTimer = setInterval(() => void this.leading(), everyMs);
  }

  /** The process is gone (or a zombie nobody reaps): end what it left, then report the exit. */
  private async ended(): Promise<void> {
    if (this.done) return;
    this.done = true;
    clearInterval(this.watchTimer);
    // Like a container whose main process ended: nothing it left behind keeps running. Not the
    // whole group blindly: its PID is free again (init reaped it), so only proven descendants.
    for (const pid of leftoverMembers(this.pid, this.record.startTime, this.record.project))
      signal(pid, 'SIGKILL');
    this.opts.cgroup?.killAll();
    const oomKilled = (this.opts.cgroup?.oomKills() ?? 0) > this.oomKillsBefore;
    await this.opts.cgroup?.remove();
    // In bounded turns: a backlog written while no daemon ran must not stall the event loop.
    await this.tail.catchUp();
    this.tail.close({ remove: true });
    removeRecord(this.opts.dir, this.record.name);
    this.resolveExit(
      oomKilled ? { exitCode: 137, oomKilled: true } : { exitCode: 255, codeUnknown: true },
    );
  }

  onOutput(listener: (stream: OutputStream, line: string) => void): void {
    this.output.listen(listener);
  }

  /** Whether the process adopted still leads its group (PID and start time), so the group is
   * its own to signal. Between two looks at /proc it may have ended, and its PID (pid_max can be
   * as low as 32768) may then lead another process's group: that one is never signalled. */
  private leading(): boolean {
    if (this.done) return false;
    if (isSameProcess(this.record.pid, this.record.startTime)) return true;
    void this.ended();
    return false;
  }

  kill(sig: NodeJS.Signals): void {
    if (this.leading()) killGroup(this.pid, sig);
  }

  async pause(): Promise<void> {
    if (this.leading()) freezeGroup(this.pid, this.opts.cgroup, true);
  }

  async resume(): Promise<void> {
    if (this.leading()) freezeGroup(this.pid, this.opts.cgroup, false);
  }

  async stop(graceMs?: number): Promise<ExitInfo> {
    if (!this.leading()) return this.exited;
    this.watch(STOPPING_WATCH_MS);
    const grace = graceMs ?? this.opts.stopGracePeriodMs;
    return stopGroup(this.pid, this.opts.stopSignal, grace, this.exited);
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // exited meanwhile
  }
}
