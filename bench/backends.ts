// Minimal fast HTTP/1.1 backends for the benchmarks (raw net: the proxy, not the backend, is
// what we measure). Usage: node --import tsx bench/backends.ts <count> [fixed ports…]
// Prints one line of JSON with the ports, then serves until killed. `GET /1m` answers 1 MiB;
// every other request the same 13 bytes. A request with `Connection: close` is answered with
// it and the connection closed (what a client that opens a connection per request meets).
import net from 'node:net';
import type { AddressInfo } from 'node:net';

const response = (body: Buffer, close: boolean): Buffer =>
  Buffer.concat([
    Buffer.from(
      `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: ${close ? 'close' : 'keep-alive'}\r\n\r\n`,
    ),
    body,
  ]);
const SMALL = Buffer.from('hello, world\n');
const BIG = Buffer.alloc(1024 * 1024, 'x');
const RESPONSE = response(SMALL, false);
const RESPONSE_CLOSE = response(SMALL, true);
const BIG_RESPONSE = response(BIG, false);
const BIG_CLOSE = response(BIG, true);
const END = Buffer.from('\r\n\r\n');
const BIG_PATH = Buffer.from(' /1m ');
const CLOSE = /\r\nconnection:[ \t]*close/i;

function serve(port: number): Promise<number> {
  const server = net.createServer({ noDelay: true }, (s) => {
    let pending: Buffer | null = null;
    s.on('error', () => {});
    s.on('data', (d: Buffer) => {
      // Benchmark requests carry no body: every CRLFCRLF ends one request.
      let buf = pending ? Buffer.concat([pending, d]) : d;
      const out: Buffer[] = [];
      let close = false;
      let i = buf.indexOf(END);
      while (i !== -1 && !close) {
        const big = buf.indexOf(BIG_PATH) !== -1 && buf.indexOf(BIG_PATH) < i;
        close = CLOSE.test(buf.toString('latin1', 0, i + 2));
        out.push(big ? (close ? BIG_CLOSE : BIG_RESPONSE) : close ? RESPONSE_CLOSE : RESPONSE);
        buf = buf.subarray(i + 4);
        i = buf.indexOf(END);
      }
      pending = buf.length ? buf : null;
      if (out.length === 1) s.write(out[0]!);
      else if (out.length > 1) s.write(Buffer.concat(out));
      if (close) s.end();
    });
  });
  server.listen({ port, host: '127.0.0.1', backlog: 4096 });
  return new Promise((resolve) =>
    server.once('listening', () => resolve((server.address() as AddressInfo).port)),
  );
}

const count = Number(process.argv[2] ?? 3);
const fixed = process.argv.slice(3).map(Number);
const ports: number[] = [];
for (let i = 0; i < count; i++) ports.push(await serve(fixed[i] ?? 0));
process.stdout.write(JSON.stringify(ports) + '\n');
