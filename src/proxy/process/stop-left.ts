// `herd down` when no daemon answers: a proxy process group that a dead daemon left serving (and
// trying to start that daemon again) is asked to end over its control socket, as a daemon ends it.
import net from 'node:net';
import { join } from 'node:path';
import { CONTROL_SOCKET, type Request } from './protocol.ts';

/** True when a proxy answered in `dir` and was told to end (it has ended, or `timeoutMs` passed). */
export async function stopLeftProxy(dir: string, timeoutMs = 5000): Promise<boolean> {
  const sock = await new Promise<net.Socket | null>((resolve) => {
    const s = net.connect(join(dir, CONTROL_SOCKET));
    s.once('connect', () => resolve(s));
    s.once('error', () => resolve(null));
  });
  if (!sock) return false;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    sock.on('error', () => undefined);
    sock.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    sock.write(JSON.stringify({ id: 0, op: 'shutdown' } satisfies Request) + '\n');
  });
  sock.destroy();
  return true;
}
