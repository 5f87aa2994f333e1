// An upgraded HTTP connection (WebSocket…): from the 101 answer on, bytes go both ways untouched
// until either side closes, which closes the other.
import type net from 'node:net';
import type { ReplicaCounters } from './counters.ts';
import type { Upstream } from './upstream.ts';

/** Hands the client the replica's 101 `head` and joins the two sockets; `early` is what the
 * client sent past its request, for the replica. Counted as one open connection of the replica. */
export function openTunnel(
  client: net.Socket,
  up: Upstream,
  counters: ReplicaCounters,
  head: Buffer,
  early: Buffer | null,
): void {
  counters.connections++;
  client.write(head);
  // From here on each side's reads are written to the other (see the session and Upstream).
  up.owner = null;
  up.tunnel = client;
  if (early) up.sock.write(early);
  const done = (): void => {
    if (client.destroyed && up.sock.destroyed) return;
    client.destroy();
    up.sock.destroy();
  };
  let counted = true;
  const closeBoth = (): void => {
    if (counted) {
      counted = false;
      counters.connections--;
    }
    done();
  };
  client.on('close', closeBoth);
  up.sock.on('close', closeBoth);
  client.resume();
}
