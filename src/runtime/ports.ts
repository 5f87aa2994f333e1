// Free loopback ports for replicas. They are drawn below the kernel's ephemeral range: a port
// from that range, once released, can be taken by any outgoing connection's local end before the
// replica binds it (a busy balancer opens thousands of those), where a port below it cannot.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Lowest port drawn: above the well-known and most registered service ports. */
const LOWEST = 10_000;

/** The start of the kernel's ephemeral port range (Linux; 32768 when it cannot be read). */
function ephemeralStart(): number {
  try {
    const low = Number(
      readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').split(/\s+/)[0],
    );
    return Number.isInteger(low) && low > LOWEST + 1000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

const UPPER = ephemeralStart();

/** Ports handed out recently: the kernel may offer a just-released port again before the
 * replica that got it has bound it, so each port is held back for a while. */
const recent = new Map<number, number>();
const HOLD_MS = 60_000;

/** `port` if it can be bound on 127.0.0.1 right now, else 0. */
function probe(port: number): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(0));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(port)));
  });
}

/** A free port on 127.0.0.1 not handed out in the last minute. */
export async function allocatePort(): Promise<number> {
  const now = Date.now();
  for (const [port, at] of recent) if (now - at > HOLD_MS) recent.delete(port);
  for (let attempt = 0; attempt < 50; attempt++) {
    const candidate = LOWEST + Math.floor(Math.random() * (UPPER - LOWEST));
    if (recent.has(candidate)) continue;
    const port = await probe(candidate);
    if (port > 0) {
      recent.set(port, now);
      return port;
    }
  }
  throw new Error('could not find a free loopback port after 50 attempts');
}
