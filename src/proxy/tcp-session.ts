// One client connection in TCP mode: pick a replica, connect (trying the others on a connect
// failure), then pipe bytes both ways until either side closes.
import net from 'node:net';
import { ioDeadline } from '../util/timers.ts';
import type { Balancer, Member } from './balancer.ts';
import { countSocket, fdReserve } from './http-fd-reserve.ts';

export interface TcpLimits {
  holdMs: number;
  connectTimeoutMs: number;
}

export function startTcpSession(
  client: net.Socket,
  balancer: Balancer,
  limits: TcpLimits,
  first: Buffer | null,
): void {
  countSocket(client);
  if (fdReserve.exhausted()) {
    // Out of descriptors: close at once (TCP has no way to say why) rather than hang.
    client.destroy();
    return;
  }
  let closed = false;
  const pending: Buffer[] = first ? [first] : [];
  const collect = (d: Buffer): void => {
    pending.push(d);
  };
  client.on('data', collect);
  client.pause();
  client.on('error', () => {});
  client.on('close', () => {
    closed = true;
  });
  const tried: Member[] = [];

  const attempt = (): void => {
    if (closed) return;
    const m = balancer.pick(tried.length ? tried : null, { clientIp: client.remoteAddress });
    if (m) return connect(m);
    if (tried.length) return void client.destroy();
    balancer.waitForMember(limits.holdMs, (found) => {
      if (closed) return;
      if (found) connect(found);
      else client.destroy();
    });
  };

  const connect = (m: Member): void => {
    m.inFlight++;
    m.counters.connections++;
    let connected = false;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      m.inFlight--;
      m.counters.connections--;
      m.settled();
    };
    const up = net.connect({ host: m.host, port: m.port, noDelay: true });
    countSocket(up);
    const cancelDeadline = ioDeadline(limits.connectTimeoutMs, () => up.destroy());
    up.on('error', () => {});
    up.on('connect', () => {
      cancelDeadline();
      connected = true;
      balancer.connectOk(m);
      m.counters.requests++;
      m.counters.tcpConnections++;
      if (closed) return void up.destroy();
      client.removeListener('data', collect);
      for (const b of pending.splice(0)) up.write(b);
      client.pipe(up);
      up.pipe(client);
      client.on('close', () => up.destroy());
      client.resume();
    });
    up.on('close', () => {
      cancelDeadline();
      release();
      if (connected) {
        client.destroy();
        return;
      }
      m.counters.errors++;
      balancer.connectFailed(m);
      tried.push(m);
      attempt();
    });
  };

  attempt();
}
