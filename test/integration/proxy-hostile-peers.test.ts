// The balancer against clients and replicas that misbehave: a slow reader of a large response, a
// replica that answers before the request body ended, one that breaks off mid-head or frames its
// response two ways, and a client that never closes its side.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createProxy, type Proxy } from '../../src/proxy/index.ts';
import {
  freePort,
  httpBackend,
  makeProject,
  makeService,
  port,
  rawExchange,
  replica,
  type Backend,
} from '../helpers/backends.ts';

/** A raw TCP "replica" that answers every connection with `answer(requestBytes)`. */
async function rawReplica(
  answer: (s: net.Socket, request: string) => void,
): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    let got = '';
    let answered = false;
    s.on('data', (d) => {
      got += d.toString('latin1');
      if (!answered && got.includes('\r\n\r\n')) {
        answered = true;
        answer(s, got);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

async function proxyFor(
  replicaPort: number,
  limits: Record<string, number> = {},
): Promise<{ proxy: Proxy; port: number }> {
  const p = await freePort();
  const proxy = createProxy(
    makeProject([makeService('web', { ports: [port(p, 80, { appProtocol: 'http' })] })]),
    { limits },
  );
  await proxy.listen();
  proxy.replicaReady(replica('web', 1, replicaPort, 80));
  return { proxy, port: p };
}

describe('proxy: a slow reader of a large response', () => {
  const size = 64 * 1024 * 1024;
  let backend: Backend;
  let written = 0;
  before(async () => {
    backend = await httpBackend('big', (_req, res) => {
      res.writeHead(200, { 'content-length': size });
      const chunk = Buffer.alloc(1024 * 1024, 0x61);
      const pump = (): void => {
        while (written < size) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
  });
  after(() => backend.close());

  it('holds the replica back instead of buffering the response in herd', async () => {
    const { proxy, port: p } = await proxyFor(backend.port);
    const client = net.connect(p, '127.0.0.1');
    client.pause(); // reads nothing for now
    client.write('GET /big HTTP/1.1\r\nHost: a\r\n\r\n');
    await new Promise((r) => setTimeout(r, 1500));
    // Kernel buffers on both hops hold a few MB at most; without backpressure the replica
    // would have handed herd all 64 MB by now.
    assert.ok(written < 24 * 1024 * 1024, `the replica wrote ${written} bytes to herd`);
    let received = 0;
    const done = new Promise<void>((resolve) => {
      client.on('data', (d: Buffer) => {
        received += d.length;
        if (received >= size) resolve();
      });
    });
    client.resume();
    await done;
    assert.ok(received >= size && received < size + 1024, `received ${received}`);
    client.destroy();
    await proxy.close();
  });
});

describe('proxy: replicas that break the rules', () => {
  it('a replica that answers before the request body ended: the body is dropped, the connection serves on', async () => {
    // Node's server answers at once without reading the body (as a 413 would), then drops it.
    const backend = await httpBackend('early', (req, res) => res.end(req.url));
    const { proxy, port: p } = await proxyFor(backend.port);
    const body = 'x'.repeat(5_000_000);
    const answer = await rawExchange(
      p,
      `POST /early HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\n\r\n${body}` +
        'GET /second HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
      10_000,
    );
    assert.match(
      answer,
      /^HTTP\/1\.1 200 OK\r\n[\s\S]*\/early[\s\S]*HTTP\/1\.1 200 OK[\s\S]*\/second$/,
    );
    await proxy.close();
    await backend.close();
  });

  const broken: [string, string, RegExp][] = [
    ['closes inside the response head', 'HTTP/1.1 200 OK\r\nContent-Len', /closed the connection/],
    [
      'frames the response with both Content-Length and chunked',
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      /both Content-Length and Transfer-Encoding/,
    ],
    [
      'sends two different Content-Lengths',
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 10\r\n\r\nhello',
      /conflicting Content-Length/,
    ],
    [
      'switches protocols without being asked',
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n',
      /without Upgrade/,
    ],
  ];
  for (const [what, response, why] of broken) {
    it(`a replica that ${what} gets the client a 502`, async () => {
      const r = await rawReplica((s) => s.end(response));
      const { proxy, port: p } = await proxyFor(r.port);
      const answer = await rawExchange(p, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
      assert.match(answer, /^HTTP\/1\.1 502 Bad Gateway\r\n/, answer);
      assert.match(answer, why);
      await proxy.close();
      await r.close();
    });
  }

  it('a response with a transfer coding other than chunked runs until the replica closes', async () => {
    const r = await rawReplica((s) =>
      s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: notchunked\r\n\r\nall of it'),
    );
    const { proxy, port: p } = await proxyFor(r.port);
    const answer = await rawExchange(p, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.match(answer, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nall of it$/);
    await proxy.close();
    await r.close();
  });
});

describe('proxy: a client that never closes its side', () => {
  it('is cut off a few seconds after its last answer, freeing the descriptor', async () => {
    const backend = await httpBackend('b');
    const { proxy, port: p } = await proxyFor(backend.port);
    // allowHalfOpen: this client keeps its side open after herd ended the exchange.
    const client = net.connect({ port: p, host: '127.0.0.1', allowHalfOpen: true });
    let got = '';
    client.on('data', (d) => (got += d.toString()));
    const closed = new Promise<void>((resolve) => client.on('close', () => resolve()));
    client.on('error', () => {});
    // HTTP/1.0 without keep-alive: herd ends its side after the answer.
    client.write('GET / HTTP/1.0\r\n\r\n');
    await new Promise<void>((resolve) => client.once('end', () => resolve()));
    assert.match(got, /^HTTP\/1\.1 200 OK[\s\S]*\r\n\r\nb$/);
    // Past herd's linger time its socket is gone: what the client sends now is refused (RST).
    await new Promise((r) => setTimeout(r, 6500));
    // The first write draws the RST; the client's socket sees it on the next one (EPIPE).
    client.write('anyone there?');
    setTimeout(() => client.write('hello?'), 300);
    const verdict = await Promise.race([
      closed.then(() => 'closed'),
      new Promise((r) => setTimeout(() => r('still open'), 3000)),
    ]);
    assert.equal(verdict, 'closed');
    await proxy.close();
    await backend.close();
  });
});
