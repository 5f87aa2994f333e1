// Whether a replica accepts TCP connections yet: how a rolling restart knows that a successor
// without a healthcheck can take traffic (running is not listening: a process needs a moment to
// bind its port).
import { connect } from 'node:net';
import type { Clock } from './clock.ts';

const ATTEMPT_MS = 1000;
const POLL_MS = 50;

export function acceptsConnections(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(ATTEMPT_MS, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Polls until `port` accepts a connection, `gone()` says to give up, or the time is over. */
export async function waitListening(opts: {
  host: string;
  port: number;
  timeoutMs: number;
  clock: Clock;
  gone: () => boolean;
}): Promise<boolean> {
  const end = opts.clock.now() + opts.timeoutMs;
  for (;;) {
    if (opts.gone()) return false;
    if (await acceptsConnections(opts.host, opts.port)) return true;
    if (opts.clock.now() >= end) return false;
    await new Promise<void>((resolve) => opts.clock.setTimeout(resolve, POLL_MS));
  }
}
