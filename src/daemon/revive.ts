// A verb that finds no daemon but a recorded stack: the daemon was killed and is being started
// again (by the proxy that outlived it, or by a concurrent `herd up -d`), so the verb waits
// briefly for it instead of failing. Nothing recorded: no wait, the verb answers at once.
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { CONTROL_SOCKET } from '../proxy/process/protocol.ts';
import { HerdError } from '../util/errors.ts';
import { readState } from './state-file.ts';

/** Seconds a verb waits for a daemon being revived; 0 turns the wait off. */
export const REVIVE_WAIT_ENV = 'HERD_REVIVE_WAIT';
const DEFAULT_WAIT_MS = 10_000;
const POLL_MS = 150;
const QUIET_MS = 250;

/** How long to wait, from HERD_REVIVE_WAIT (seconds, default 10). */
export function reviveWaitMs(env: Record<string, string | undefined> = process.env): number {
  const raw = env[REVIVE_WAIT_ENV];
  if (raw === undefined || raw === '') return DEFAULT_WAIT_MS;
  const s = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw.trim()) || !Number.isFinite(s) || s > 3600)
    throw new HerdError(
      `${REVIVE_WAIT_ENV}=${raw}: expected the seconds to wait for a daemon being revived ` +
        '(0 to 3600, e.g. 10; 0 turns the wait off)',
      'INVALID_ARGUMENT',
    );
  return Math.round(s * 1000);
}

/** Why the state dir says a stack is recorded there: its state file, or a proxy that still
 * serves it; undefined when nothing is (the project is simply not running). */
export function recordedStack(dir: string): 'state file' | 'proxy' | undefined {
  const stateFile = join(dir, 'state.json');
  if (existsSync(stateFile)) {
    try {
      if (readState(stateFile)) return 'state file';
    } catch {
      // A corrupt record is still a record: the daemon that starts says what is wrong with it.
      return 'state file';
    }
  }
  const proxy = join(dir, CONTROL_SOCKET);
  // Cheap when nothing ran: no file, nothing read.
  if (existsSync(proxy) && listening(proxy)) return 'proxy';
  return undefined;
}

/** True when some process listens on the unix socket `socketPath`. Never by connecting: the proxy
 * takes any connection on its control socket for its daemon's, dropping the one it had. Linux
 * lists listening sockets in /proc/net/unix (flag __SO_ACCEPTCON); elsewhere the file decides. */
export function listening(socketPath: string, table = '/proc/net/unix'): boolean {
  let text: string;
  try {
    text = readFileSync(table, 'utf8');
  } catch {
    return existsSync(socketPath);
  }
  // "Num RefCount Protocol Flags Type St Inode Path": the path is the rest of the line.
  for (const line of text.split('\n')) {
    const m = /^\S+: \S+ \S+ (\S+) \S+ \S+ \S+ (.*)$/.exec(line);
    if (m && m[2] === socketPath && (parseInt(m[1]!, 16) & 0x10000) !== 0) return true;
  }
  return false;
}

/** True when something accepts a connection on the unix socket (nothing is said on it). */
export function answers(socketPath: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(socketPath);
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

export interface ReviveWait {
  /** The project's state dir (its daemon socket is herd.sock there). */
  dir: string;
  socket: string;
  project: string;
  waitMs: number;
  /** Where the one "waiting" line goes. */
  say?: (line: string) => void;
}

/** The daemon's socket did not answer: when a stack is recorded, say so once and wait for the
 * socket to accept a connection. Resolves true when it does (the caller retries its request),
 * false when nothing is (or stays) recorded (the caller fails as before); throws DaemonNotRevived
 * when a stack is recorded but its daemon did not come back in time. */
export async function awaitRevival(w: ReviveWait): Promise<boolean> {
  if (recordedStack(w.dir) === undefined) return false;
  if (w.waitMs <= 0) throw new DaemonNotRevived(w.project, 0);
  const say = w.say ?? ((line: string) => process.stderr.write(line));
  const t0 = Date.now();
  const deadline = t0 + w.waitMs;
  let said = false;
  for (;;) {
    if (await answers(w.socket, Math.max(100, Math.min(1000, deadline - Date.now())))) return true;
    // A daemon that answered `herd down` closes its socket a moment before it removes its
    // record: the stack is gone, not coming back.
    if (recordedStack(w.dir) === undefined) return false;
    const left = deadline - Date.now();
    if (left <= 0) throw new DaemonNotRevived(w.project, w.waitMs);
    // Said once the wait is a real one (not that moment), so quick answers stay quiet.
    if (!said && Date.now() - t0 >= QUIET_MS) {
      said = true;
      say(
        `herd: the daemon of project ${w.project} is not running; ` +
          `waiting up to ${seconds(w.waitMs)} s for it to come back…\n`,
      );
    }
    await new Promise((r) => setTimeout(r, Math.min(POLL_MS, left)));
  }
}

function seconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}

/** A stack is recorded but no daemon came back for it. */
export class DaemonNotRevived extends HerdError {
  constructor(project: string, waitedMs: number) {
    super(
      `no herd daemon running for project ${project}` +
        (waitedMs > 0 ? ` (none came back within ${seconds(waitedMs)} s)` : '') +
        '; its replicas may still be running: `herd up -d` adopts the running replicas, ' +
        '`herd down` stops them',
      'NO_DAEMON',
    );
  }
}
