// The primary starts the daemon again when it is gone: the proxy outlives its daemon (it keeps
// serving the last table) and brings it back, so no verb needs `herd up` after a crash. One
// child at a time, with a backoff; the daemon's own lock settles any race with one started by
// hand.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { isSameProcess, pidExists } from '../../util/process-identity.ts';

import type { ReviveCommand } from './protocol.ts';

export interface ReviveTiming {
  /** How often a daemon that is disconnected but alive is checked again. */
  pollMs: number;
  /** The wait before the second attempt, doubled each time up to maxBackoffMs. */
  firstBackoffMs: number;
  maxBackoffMs: number;
  /** A started daemon that has not registered by then has failed (it is ended). */
  connectWaitMs: number;
  /** After SIGTERM, how long a failed attempt has to exit before SIGKILL. */
  killWaitMs: number;
}

export const REVIVE_TIMING: ReviveTiming = {
  pollMs: 500,
  firstBackoffMs: 1000,
  maxBackoffMs: 30_000,
  connectWaitMs: 30_000,
  killWaitMs: 5000,
};

export interface DaemonIdentity {
  pid: number;
  /** processStartTime of it; 0 where the platform has none (then the PID alone is checked). */
  startTime: number;
}

interface Attempt {
  proc: ChildProcess;
  startedAt: number;
  running: boolean;
  ending: boolean;
}

export class Reviver {
  private daemon: DaemonIdentity | undefined;
  private connected = false;
  private attempt: Attempt | undefined;
  private backoffMs: number;
  private nextAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly timing: ReviveTiming;
  /** Daemons started so far (tests, logs). */
  attempts = 0;

  constructor(
    private command: ReviveCommand | undefined,
    timing: Partial<ReviveTiming> = {},
    private readonly log: (m: string) => void = (m) => process.stderr.write(`herd: proxy: ${m}\n`),
  ) {
    this.timing = { ...REVIVE_TIMING, ...timing };
    this.backoffMs = this.timing.firstBackoffMs;
  }

  /** With a command the primary never ends for lack of a daemon. */
  get enabled(): boolean {
    return this.command !== undefined;
  }

  /** A daemon connected and said who it is: watch that process; the backoff starts over. */
  registered(id: DaemonIdentity, command?: ReviveCommand): void {
    this.daemon = id;
    if (command) this.command = command;
    this.connected = true;
    this.backoffMs = this.timing.firstBackoffMs;
    this.nextAt = 0;
    // A daemon this started that registered is the daemon now, no longer an attempt.
    if (this.attempt?.proc.pid === id.pid) this.attempt = undefined;
    clearTimeout(this.timer);
  }

  /** The daemon's control connection dropped. */
  lost(): void {
    this.connected = false;
    this.tick();
  }

  /** The proxy is ending (`herd down`): a daemon it started that has not registered yet must
   * not live on, win the lock once the ending daemon lets go of it, and start the stack again. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    const a = this.attempt;
    if (a?.running) signalGroup(a.proc, 'SIGKILL');
  }

  private daemonAlive(): boolean {
    const d = this.daemon;
    if (!d) return false;
    return d.startTime > 0 ? isSameProcess(d.pid, d.startTime) : pidExists(d.pid);
  }

  private later(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), Math.max(0, ms));
  }

  private tick(): void {
    clearTimeout(this.timer);
    if (this.connected || this.stopped || !this.command) return;
    const { pollMs, connectWaitMs } = this.timing;
    // Alive but disconnected (reconnecting, or stalled): it may come back on its own.
    if (this.daemonAlive()) return this.later(pollMs);
    const now = Date.now();
    const a = this.attempt;
    if (a?.running) {
      // It may just be slow; past the wait it has failed and is ended before the next one.
      if (now - a.startedAt >= connectWaitMs && !a.ending) this.end(a);
      return this.later(pollMs);
    }
    if (now < this.nextAt) return this.later(this.nextAt - now);
    this.start(this.command);
    this.later(pollMs);
  }

  private end(a: Attempt): void {
    a.ending = true;
    this.log(
      `the daemon started ${connectWaitMs(this.timing)} ago (pid ${a.proc.pid}) did not connect; ending it`,
    );
    signalGroup(a.proc, 'SIGTERM');
    setTimeout(() => {
      if (a.running) signalGroup(a.proc, 'SIGKILL');
    }, this.timing.killWaitMs).unref();
  }

  private start(cmd: ReviveCommand): void {
    this.attempts++;
    let fd: number | 'ignore' = 'ignore';
    try {
      fd = openSync(cmd.log, 'a', 0o600);
      const gone = this.daemon ? `pid ${this.daemon.pid} is gone` : 'no daemon connected';
      writeSync(fd, `herd: proxy: starting the daemon again (${gone}; attempt ${this.attempts})\n`);
    } catch (err) {
      this.log(`cannot open the daemon log ${cmd.log}: ${(err as Error).message}`);
    }
    const env = { ...process.env };
    delete env.HERD_PROXY_CONFIG;
    const proc = spawn(cmd.argv[0]!, cmd.argv.slice(1), {
      detached: true,
      stdio: ['ignore', fd, fd],
      env,
      cwd: cmd.cwd,
    });
    if (typeof fd === 'number') closeSync(fd);
    const a: Attempt = { proc, startedAt: Date.now(), running: true, ending: false };
    this.attempt = a;
    const failed = (why: string) => {
      if (!a.running) return;
      a.running = false;
      if (this.attempt !== a) return; // it had registered: the daemon's exit is watched instead
      this.log(`the daemon it started (pid ${proc.pid ?? '-'}) ended: ${why}`);
      this.nextAt = Date.now() + this.backoffMs;
      this.backoffMs = Math.min(this.backoffMs * 2, this.timing.maxBackoffMs);
      this.tick();
    };
    proc.once('error', (err) => failed(err.message));
    proc.once('exit', (code, signal) => failed(`exit ${code ?? signal}`));
  }
}

const connectWaitMs = (t: ReviveTiming): string => `${Math.round(t.connectWaitMs / 1000)} s`;

/** The attempt leads a session of its own: what it started goes with it. */
function signalGroup(proc: ChildProcess, sig: NodeJS.Signals): void {
  try {
    if (proc.pid !== undefined) process.kill(-proc.pid, sig);
  } catch {
    proc.kill(sig);
  }
}
