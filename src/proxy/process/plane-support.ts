// Pieces of the daemon's side of a proxy process group (process-plane.ts): matching its
// listeners to those an adopted primary holds, and keeping count of primaries started again.
import { isDeepStrictEqual } from 'node:util';
import { groupMembers } from '../../util/process-identity.ts';
import type { IngressConfig, ListenerSpec } from '../plane.ts';
import type { HeldListener } from './protocol.ts';

/** The same listener as far as serving goes: what it binds and how it balances. */
function sameListener(a: ListenerSpec, b: ListenerSpec): boolean {
  return (
    a.service === b.service &&
    a.host === b.host &&
    a.port === b.port &&
    a.mode === b.mode &&
    Boolean(a.keepForwarded) === Boolean(b.keepForwarded) &&
    a.holdMs === b.holdMs &&
    isDeepStrictEqual(a.lb, b.lb)
  );
}

/** Which listener held by an adopted primary `spec` is (taken out of `held`: each is claimed
 * once, in the order the primary opened them, as a daemon plans them), or which one holds its
 * port with other settings. */
export function heldMatch(
  held: HeldListener[],
  spec: ListenerSpec,
): { claim?: HeldListener; conflict?: HeldListener } {
  const i = held.findIndex((h) => sameListener(h.spec, spec));
  if (i >= 0) return { claim: held.splice(i, 1)[0]! };
  const j = spec.port === 0 ? -1 : held.findIndex((h) => h.spec.port === spec.port);
  return j >= 0 ? { conflict: held.splice(j, 1)[0]! } : {};
}

/** Restarts of a primary that died: one at a time, counted, with the last gap. */
export class Restarts {
  /** Primaries started again. */
  count = 0;
  /** Connection lost → new primary serving the whole table, of the last restart. */
  lastGapMs: number | undefined;
  private running: Promise<void> | undefined;

  record(gapMs: number): void {
    this.count++;
    this.lastGapMs = gapMs;
  }

  /** Runs `fn` unless a restart is under way already. */
  run(fn: () => Promise<void>): void {
    if (this.running) return;
    this.running = fn().finally(() => (this.running = undefined));
  }

  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }
}

/** The dead primary's workers (its process group) hold the listening sockets until they exit:
 * end them, and wait until none is left but zombies (bounded; their parent is gone, so whoever
 * adopted them reaps them in its own time). */
export async function killGroup(pgid: number): Promise<void> {
  const deadline = Date.now() + 3000;
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    return; // nothing left of it
  }
  while (Date.now() < deadline && groupMembers(pgid).length > 0) await sleep(10);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The ingress config with its pools named by the ids the primary knows the listeners by. */
export function onWire(config: IngressConfig, wireId: (id: string) => string): IngressConfig {
  const pools = Object.entries(config.pools).map(([key, id]) => [key, wireId(id)]);
  return { ...config, pools: Object.fromEntries(pools) as Record<string, string> };
}
