// Waiting for members taken out of a pool to finish their in-flight requests.
import type { Member } from './balancer.ts';

/** Resolves once every member has no request in flight (no timeout: callers bound it). */
export function drainMembers(members: Member[]): Promise<void> {
  return Promise.all(
    members.map(
      (m) =>
        new Promise<void>((resolve) => {
          if (m.inFlight === 0) return resolve();
          m.zeroWaiters.push(resolve);
        }),
    ),
  ).then(() => undefined);
}
