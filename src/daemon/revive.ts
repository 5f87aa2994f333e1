// A verb that finds no daemon but a recorded stack: the daemon was killed and is being started
// again (by the proxy that outlived it, or by a concurrent `herd up -d`), so the verb waits
// briefly for it instead of failing. Nothing recorded: no wait, the verb answers at once.
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { CONTROL_SOCKET } from '../proxy/process/protocol.ts';
import { HerdError } from '../util/errors.ts';
import { readState } from './state-file.ts';

/** Seconds a verb waits for a daemon being revived; 0 turns the wait off. */
export const REVIVE_WAIT_ENV = 'HERD_REVIVE_WAIT';
const DEFAULT_WAIT_MS = 10_000;
const POLL_MS = 150;

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
export async function recordedStack(dir: string): Promise<'state file' | 'proxy' | undefined> {
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
  // Cheap when nothing ran: no file, no connect.
  if (existsSync(proxy) && (await answers(proxy))) return 'proxy';
  return undefined;
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
 * false when nothing is recorded (the caller fails as before); throws DaemonNotRevived when a
 * stack is recorded but its daemon did not come back in time. */
export async function awaitRevival(w: ReviveWait): Promise<boolean> {
  const why = await recordedStack(w.dir);
  if (why === undefined) return false;
  if (w.waitMs <= 0) throw new DaemonNotRevived(w.project, 0);
  const say = w.say ?? ((line: string) => process.stderr.write(line));
  say(
    `herd: the daemon of project ${w.project} is not running; ` +
      `waiting up to ${seconds(w.waitMs)} s for it to come back…\n`,
  );
  const deadline = Date.now() + w.waitMs;
  for (;;) {
    if (await answers(w.socket, Math.max(100, Math.min(1000, deadline - Date.now())))) return true;
    const left = deadline - Date.now();
    if (left <= 0) throw new DaemonNotRevived(w.project, w.waitMs);
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
