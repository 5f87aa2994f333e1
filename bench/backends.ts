// Minimal fast HTTP/1.1 backends for the benchmarks (raw net: the proxy, not the backend, is
// what we measure). Usage: node --import tsx bench/backends.ts <count> [fixed ports…]
// Prints one line of JSON with the ports, then serves until killed.
import net from 'node:net';
import type { AddressInfo } from 'node:net';

const RESPONSE = Buffer.from(
  'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nConnection: keep-alive\r\n\r\nhello, world\n',
);
const END = Buffer.from('\r\n\r\n');

function serve(port: number): Promise<number> {
  const server = net.createServer({ noDelay: true }, (s) => {
    let pending: Buffer | null = null;
    s.on('error', () => {});
    s.on('data', (d: Buffer) => {
      // Benchmark requests carry no body: every CRLFCRLF ends one request.
      let buf = pending ? Buffer.concat([pending, d]) : d;
      let n = 0;
      let i = buf.indexOf(END);
      while (i !== -1) {
        n++;
        buf = buf.subarray(i + 4);
        i = buf.indexOf(END);
      }
      pending = buf.length ? buf : null;
      if (n === 1) s.write(RESPONSE);
      else if (n > 1) s.write(Buffer.concat(new Array<Buffer>(n).fill(RESPONSE)));
    });
  });
  return new Promise((resolve) =>
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

const count = Number(process.argv[2] ?? 3);
const fixed = process.argv.slice(3).map(Number);
const ports: number[] = [];
for (let i = 0; i < count; i++) ports.push(await serve(fixed[i] ?? 0));
process.stdout.write(JSON.stringify(ports) + '\n');
