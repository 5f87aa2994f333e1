// HTTP as RFC 9110/9112 want it of an intermediary, checked byte for byte with raw sockets
// against a real balancer and real backends: hop-by-hop fields stay on their hop in both
// directions, the client's connection is herd's own (close when asked, HTTP/1.0 keep-alive,
// no advertised timeout), a bare LF ends lines, smuggling shapes get 400 and a close.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { createProxy } from '../../src/proxy/index.ts';
import type { Proxy } from '../../src/proxy/index.ts';
import {
  freePort,
  httpBackend,
  makeProject,
  makeService,
  port,
  replica,
} from '../helpers/backends.ts';
import type { Backend } from '../helpers/backends.ts';
import { rawConnect, rawRequest } from '../helpers/raw-http.ts';

/** A raw backend whose responses name a field of their own in Connection, as bar 9's does. */
function hopBackend(): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer((c) => {
    let buf = '';
    c.on('error', () => {});
    c.on('data', (d) => {
      buf += d.toString('latin1');
      let i;
      while ((i = buf.indexOf('\r\n\r\n')) >= 0) {
        buf = buf.slice(i + 4);
        c.write(
          'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\n' +
            'Keep-Alive: timeout=65\r\nProxy-Connection: keep-alive\r\nUpgrade: h2c\r\nX-End: 1\r\n\r\nhop',
        );
      }
    });
  });
  return new Promise((r) =>
    server.listen(0, '127.0.0.1', () =>
      r({ server, port: (server.address() as net.AddressInfo).port }),
    ),
  );
}

describe('proxy: HTTP per RFC 9110/9112', () => {
  let echo: Backend;
  let echoConns = 0;
  let hop: { server: net.Server; port: number };
  let proxy: Proxy;
  let p: number;
  let q: number;
  before(async () => {
    // answers with the header lines it received; Node adds Connection: keep-alive and
    // Keep-Alive: timeout=5 to every response
    echo = await httpBackend('echo', (req, res) => {
      req.resume();
      req.on('end', () => {
        const body = JSON.stringify(req.rawHeaders);
        res.setHeader('content-type', 'application/json');
        // framed even for an HTTP/1.0 request (Node would end that one with a close)
        res.setHeader('content-length', Buffer.byteLength(body));
        res.end(body);
      });
    });
    echo.server.on('connection', () => echoConns++);
    hop = await hopBackend();
    p = await freePort();
    q = await freePort();
    proxy = createProxy(
      makeProject([
        makeService('web', { ports: [port(p, 80)] }),
        makeService('hop', { ports: [port(q, 80)] }),
      ]),
      { limits: { headerTimeoutMs: 10_000 } },
    );
    await proxy.listen();
    proxy.replicaReady(replica('web', 1, echo.port, 80));
    proxy.replicaReady(replica('hop', 1, hop.port, 80));
  });
  after(async () => {
    await proxy.close();
    await echo.close();
    hop.server.close();
  });

  it('Connection: close gets Connection: close, no Keep-Alive, and the socket closed', async () => {
    const r = await rawRequest(p, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.equal(r.status, 200);
    assert.deepEqual(r.headers.get('connection'), ['close']);
    assert.equal(r.headers.get('keep-alive'), undefined);
    assert.ok(r.closed, 'the connection closed after the response');
  });

  it('HTTP/1.0: closes unless keep-alive; a keep-alive 1.0 client is told so and served on', async () => {
    const r = await rawRequest(p, 'GET / HTTP/1.0\r\n\r\n');
    assert.equal(r.statusLine.slice(0, 8), 'HTTP/1.1');
    assert.deepEqual(r.headers.get('connection'), ['close']);
    assert.equal(r.headers.get('keep-alive'), undefined);
    assert.ok(r.closed);
    const c = await rawConnect(p);
    for (let i = 0; i < 2; i++) {
      c.send('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
      const k = await c.next();
      assert.equal(k.status, 200);
      assert.deepEqual(k.headers.get('connection'), ['keep-alive']);
      assert.equal(k.headers.get('keep-alive'), undefined, 'no idle timeout is advertised');
    }
    assert.equal(await c.closed(300), false);
    c.destroy();
  });

  it("a replica's hop-by-hop fields, and those its Connection names, stay behind", async () => {
    const c = await rawConnect(q);
    c.send('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const r = await c.next();
    assert.equal(r.body, 'hop');
    assert.deepEqual(r.headers.get('x-end'), ['1']);
    for (const h of ['x-hop', 'keep-alive', 'proxy-connection', 'upgrade', 'connection'])
      assert.equal(r.headers.get(h), undefined, `${h} reached the client`);
    // the connection stays usable
    c.send('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal((await c.next()).body, 'hop');
    c.destroy();
  });

  it("a client's hop-by-hop fields never reach the replica, which gets keep-alive", async () => {
    const r = await rawRequest(
      p,
      'GET / HTTP/1.1\r\nHost: x\r\nConnection: X-Mine, TE\r\nX-Mine: 1\r\nKeep-Alive: 300\r\n' +
        'Proxy-Connection: keep-alive\r\nTE: trailers\r\nTrailer: X-T\r\nUpgrade: h2c\r\nX-Kept: 1\r\n\r\n',
    );
    const raw = JSON.parse(r.body) as string[];
    const names = raw.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    for (const h of ['x-mine', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade'])
      assert.ok(!names.includes(h), `${h} reached the replica`);
    assert.ok(names.includes('x-kept'));
    assert.equal(raw[raw.findIndex((n) => n.toLowerCase() === 'connection') + 1], 'keep-alive');
    assert.equal(r.headers.get('connection'), undefined, 'a keep-alive 1.1 client needs none');
  });

  it('reuses replica connections for clients that close after each request', async () => {
    // one request first, so that a parked connection exists
    await rawRequest(p, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const before = echoConns;
    for (let i = 0; i < 20; i++) {
      const r = await rawRequest(p, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 500);
      assert.equal(r.status, 200);
      assert.ok(r.closed);
    }
    assert.equal(echoConns - before, 0, 'no new connection to the replica');
  });

  it('a head with bare LF line ends is answered at once', async () => {
    const c = await rawConnect(p);
    const t0 = Date.now();
    c.send('GET /lf HTTP/1.1\nHost: x\nX-A: 1\n\n');
    const r = await c.next();
    c.destroy();
    assert.equal(r.status, 200);
    assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
    const raw = JSON.parse(r.body) as string[];
    assert.equal(raw[raw.indexOf('X-A') + 1], '1');
    // and a body after a bare-LF head is framed from the right place
    const b = await rawRequest(p, 'POST / HTTP/1.1\nHost: x\nContent-Length: 4\n\nabcd');
    assert.equal(b.status, 200);
  });

  const smuggling: [string, string][] = [
    [
      'CL and TE',
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    ],
    [
      'conflicting CLs',
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde',
    ],
    ['CL list', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4, 4\r\n\r\nabcd'],
    [
      'TE not chunked',
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n',
    ],
    [
      'chunk size "1 0"',
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1 0\r\nx\r\n0\r\n\r\n',
    ],
    [
      'chunk size "0x1"',
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0x1\r\nx\r\n0\r\n\r\n',
    ],
    [
      'chunk size too large',
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n',
    ],
    [
      'chunk data too long',
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxyz\r\n0\r\n\r\n',
    ],
    [
      'CR without LF in a size',
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r0\r\nx\r\n0\r\n\r\n',
    ],
  ];
  for (const [name, raw] of smuggling) {
    it(`refuses ${name} with 400 and a close`, async () => {
      const r = await rawRequest(p, raw);
      assert.equal(r.status, 400, r.body);
      assert.deepEqual(r.headers.get('connection'), ['close']);
      assert.ok(r.closed);
    });
  }

  it('keeps serving after all that', async () => {
    const res = await new Promise<number>((resolve, reject) =>
      http
        .get({ host: '127.0.0.1', port: p, agent: false }, (r) => {
          r.resume();
          resolve(r.statusCode ?? 0);
        })
        .on('error', reject),
    );
    assert.equal(res, 200);
  });
});

describe('proxy: head limits', () => {
  it('431 for a head over the limit, 408 for one that takes too long, each with a close', async () => {
    const p = await freePort();
    const proxy = createProxy(makeProject([makeService('web', { ports: [port(p, 80)] })]), {
      limits: { headerTimeoutMs: 300, maxHeaderBytes: 1024 },
    });
    await proxy.listen();
    try {
      const big = await rawRequest(p, `GET / HTTP/1.1\nHost: x\nX-Big: ${'a'.repeat(2000)}\n\n`);
      assert.equal(big.status, 431);
      assert.ok(big.closed);
      const t0 = Date.now();
      const slow = await rawRequest(p, 'GET / HTTP/1.1\r\nHost: x\r\n');
      assert.equal(slow.status, 408);
      assert.ok(slow.closed);
      assert.ok(Date.now() - t0 >= 250);
    } finally {
      await proxy.close();
    }
  });
});
