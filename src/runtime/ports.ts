// Free loopback ports for replicas: ask the kernel for an ephemeral port, then release it.
import { createServer } from 'node:net';

/** Ports handed out recently: the kernel may offer a just-released port again before the
 * replica that got it has bound it, so each port is held back for a while. */
const recent = new Map<number, number>();
const HOLD_MS = 60_000;

function probe(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A free port on 127.0.0.1 not handed out in the last minute. */
export async function allocatePort(): Promise<number> {
  const now = Date.now();
  for (const [port, at] of recent) if (now - at > HOLD_MS) recent.delete(port);
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await probe();
    if (port > 0 && !recent.has(port)) {
      recent.set(port, now);
      return port;
    }
  }
  throw new Error('could not find a free loopback port after 50 attempts');
}
