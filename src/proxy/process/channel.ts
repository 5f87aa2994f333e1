// The control channel between the daemon and a proxy primary: JSON, one message per line, over
// a unix socket. Requests carry an id and get exactly one reply with it; other messages are
// one-way (membership deltas down, counters and notices up). Every message is a JSON object;
// what fits each side's protocol is for that side to check (protocol.ts fromPrimaryProblem).
import type net from 'node:net';

export class LineChannel<In extends object> {
  private buf = '';

  constructor(
    readonly sock: net.Socket,
    onMessage: (m: In) => void,
  ) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.buf += d;
      let i: number;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        if (line.length === 0) continue;
        let m: unknown;
        try {
          m = JSON.parse(line);
        } catch {
          m = undefined;
        }
        if (typeof m !== 'object' || m === null || Array.isArray(m)) {
          sock.destroy(); // not our protocol: nothing more from this peer can be trusted
          return;
        }
        onMessage(m as In);
      }
    });
    sock.on('error', () => {});
  }

  send(m: object): void {
    if (!this.sock.destroyed && this.sock.writable) this.sock.write(JSON.stringify(m) + '\n');
  }
}
