// herd's balancer in HTTP mode, against real backend servers over real sockets.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { createProxy } from '../../src/proxy/index.ts';
import type { Proxy } from '../../src/proxy/index.ts';
import type { HerdServiceExtension } from '../../src/compose/model.ts';
import {
  freePort,
  get,
  httpBackend,
  makeProject,
  makeService,
  port,
  rawExchange,
  replica,
} from '../helpers/backends.ts';
import type { Backend } from '../helpers/backends.ts';

async function startProxy(
  opts: {
    lb?: HerdServiceExtension['lb'];
    holdMs?: number;
    headerTimeoutMs?: number;
    appProtocol?: string;
  } = {},
): Promise<{ proxy: Proxy; port: number }> {
  const p = await freePort();
  const svc = makeService('web', {
    ports: [port(p, 80, opts.appProtocol ? { appProtocol: opts.appProtocol } : {})],
  });
  if (opts.lb) svc.herd.lb = opts.lb;
  const proxy = createProxy(makeProject([svc]), {
    limits: { holdMs: opts.holdMs ?? 300, headerTimeoutMs: opts.headerTimeoutMs ?? 10_000 },
  });
  await proxy.listen();
  return { proxy, port: p };
}

/** Fire `count` keep-alive GETs, `conc` at a time; returns status/body of each. */
async function load(
  p: number,
  count: number,
  conc: number,
  agent: http.Agent,
): Promise<{ status: number; body: string }[]> {
  const out: { status: number; body: string }[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: conc }, async () => {
      while (next < count) {
        next++;
        try {
          out.push(await get(p, '/', { agent }));
        } catch (err) {
          out.push({ status: 0, body: String(err) });
        }
      }
    }),
  );
  return out;
}

describe('proxy: HTTP balancing', () => {
  let backends: Backend[] = [];
  let proxy: Proxy;
  let p: number;
  before(async () => {
    backends = await Promise.all(['a', 'b', 'c'].map((n) => httpBackend(n)));
    ({ proxy, port: p } = await startProxy());
    backends.forEach((b, i) => proxy.replicaReady(replica('web', i + 1, b.port, 80)));
  });
  after(async () => {
    await proxy.close();
    await Promise.all(backends.map((b) => b.close()));
  });

  it('round robin spreads requests evenly over 3 backends, on one keep-alive connection', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const bodies: string[] = [];
    for (let i = 0; i < 9; i++) bodies.push((await get(p, '/', { agent })).body);
    agent.destroy();
    assert.deepEqual(bodies.sort(), ['a', 'a', 'a', 'b', 'b', 'b', 'c', 'c', 'c']);
    const stats = proxy.stats();
    assert.equal(stats.length, 3);
    for (const s of stats) assert.ok(s.requests >= 3, `${s.replica} served ${s.requests}`);
  });

  it('appends X-Forwarded-For and forwards request bodies (content-length and chunked)', async () => {
    const r = await get(p, '/', {
      headers: { 'x-forwarded-for': '10.0.0.1' },
      method: 'POST',
      body: 'hi',
    });
    assert.equal(r.headers['x-seen-xff'], '10.0.0.1, 127.0.0.1');
    assert.match(r.body, /^[abc]:hi$/);
    const chunked = await rawExchange(
      p,
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n',
    );
    assert.match(chunked, /^HTTP\/1\.1 200/);
    assert.match(chunked, /[abc]:abcde$/);
  });

  it('answers pipelined requests in order', async () => {
    const res = await rawExchange(
      p,
      'GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\nGET /3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    assert.equal(res.match(/HTTP\/1\.1 200 OK/g)?.length, 3);
  });

  it('a member added live takes traffic, a removed one gets none', async () => {
    const d = await httpBackend('d');
    proxy.replicaReady(replica('web', 4, d.port, 80));
    const got = await load(p, 40, 4, new http.Agent({ keepAlive: true }));
    assert.ok(
      got.some((r) => r.body === 'd'),
      'new member d got no request',
    );
    proxy.replicaUnready(replica('web', 4, d.port, 80));
    const before = d.hits;
    const again = await load(p, 20, 4, new http.Agent({ keepAlive: true }));
    assert.equal(d.hits, before);
    assert.ok(again.every((r) => r.status === 200));
    await d.close();
  });

  it('malformed request → 400, oversized headers → 431, and it keeps serving', async () => {
    assert.match(await rawExchange(p, 'GARBAGE\r\n\r\n'), /^HTTP\/1\.1 400/);
    assert.match(
      await rawExchange(p, 'GET / HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n'),
      /^HTTP\/1\.1 400/,
    );
    const big = `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`;
    assert.match(await rawExchange(p, big), /^HTTP\/1\.1 431/);
    assert.equal((await get(p)).status, 200);
  });

  it('request smuggling guard: CL+TE, invalid or conflicting Content-Length → 400', async () => {
    const both =
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n';
    assert.match(await rawExchange(p, both), /^HTTP\/1\.1 400/);
    assert.match(
      await rawExchange(p, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n'),
      /^HTTP\/1\.1 400/,
    );
    assert.match(
      await rawExchange(
        p,
        'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab',
      ),
      /^HTTP\/1\.1 400/,
    );
    assert.match(
      await rawExchange(p, 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n'),
      /^HTTP\/1\.1 400/,
    );
  });

  it('kill one backend under continuous load: no request lost (retries)', async () => {
    const agent = new http.Agent({ keepAlive: true });
    const running = load(p, 600, 8, agent);
    await new Promise((r) => setTimeout(r, 60));
    await backends[1]!.close(); // the engine has not noticed: the balancer must retry by itself
    const got = await running;
    agent.destroy();
    const bad = got.filter((r) => r.status !== 200);
    assert.deepEqual(bad, []);
    assert.equal(got.length, 600);
  });
});

describe('proxy: membership changes under load', () => {
  it('scaling 2 → 5 → 2 with draining loses no request', async () => {
    const { proxy, port: p } = await startProxy();
    const bs = await Promise.all(
      ['r1', 'r2', 'r3', 'r4', 'r5'].map((n) =>
        httpBackend(n, (_req, res) => setTimeout(() => res.end('ok'), 5)),
      ),
    );
    bs.slice(0, 2).forEach((b, i) => proxy.replicaReady(replica('web', i + 1, b.port, 80)));
    const agent = new http.Agent({ keepAlive: true });
    const running = load(p, 800, 10, agent);
    await new Promise((r) => setTimeout(r, 100));
    bs.slice(2).forEach((b, i) => proxy.replicaReady(replica('web', i + 3, b.port, 80)));
    await new Promise((r) => setTimeout(r, 150));
    // Scale down as the engine does: drain, then stop the process.
    for (let i = 4; i >= 2; i--) {
      await proxy.drain(replica('web', i + 1, bs[i]!.port, 80), 2000);
      await bs[i]!.close();
    }
    const got = await running;
    agent.destroy();
    assert.deepEqual(
      got.filter((r) => r.status !== 200),
      [],
    );
    assert.ok(bs[3]!.hits > 0, 'scaled-up replica r4 never got traffic');
    await proxy.close();
    await Promise.all(bs.map((b) => b.close()));
  });

  it('drain waits for in-flight requests, then resolves', async () => {
    const { proxy, port: p } = await startProxy();
    const slow = await httpBackend('slow', (_req, res) => setTimeout(() => res.end('done'), 300));
    proxy.replicaReady(replica('web', 1, slow.port, 80));
    const inflight = get(p);
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    await proxy.drain(replica('web', 1, slow.port, 80), 5000);
    const waited = Date.now() - t0;
    assert.ok(waited >= 150 && waited < 2000, `drain took ${waited} ms`);
    assert.equal((await inflight).body, 'done');
    await proxy.close();
    await slow.close();
  });

  it('no member: holds the request, then 503 with Retry-After naming the service', async () => {
    const { proxy, port: p } = await startProxy({ holdMs: 300 });
    const t0 = Date.now();
    const r = await get(p);
    assert.equal(r.status, 503);
    assert.ok(r.headers['retry-after']);
    assert.match(r.body, /service "web"/);
    assert.ok(Date.now() - t0 >= 250);
    await proxy.close();
  });

  it('a held request is served as soon as a replica joins', async () => {
    const { proxy, port: p } = await startProxy({ holdMs: 3000 });
    const b = await httpBackend('late');
    const pending = get(p);
    setTimeout(() => proxy.replicaReady(replica('web', 1, b.port, 80)), 200);
    assert.equal((await pending).body, 'late');
    await proxy.close();
    await b.close();
  });

  it('slow header (slowloris) → 408', async () => {
    const { proxy, port: p } = await startProxy({ headerTimeoutMs: 300 });
    const res = await new Promise<string>((resolve) => {
      const s = net.connect(p, '127.0.0.1');
      let out = '';
      s.on('data', (d) => (out += d.toString()));
      s.on('close', () => resolve(out));
      s.on('error', () => {});
      s.write('GET / HTTP/1.1\r\nHost: x\r\n');
    });
    assert.match(res, /^HTTP\/1\.1 408/);
    await proxy.close();
  });
});

describe('proxy: algorithms', () => {
  it('sticky cookie: first response sets it, later requests stick to that replica', async () => {
    const { proxy, port: p } = await startProxy({
      lb: { algorithm: 'round_robin', stickyCookie: 'herd_sticky' },
    });
    const bs = await Promise.all(['a', 'b', 'c'].map((n) => httpBackend(n)));
    bs.forEach((b, i) => proxy.replicaReady(replica('web', i + 1, b.port, 80)));
    const first = await get(p);
    const cookie = String(first.headers['set-cookie']?.[0] ?? '');
    assert.match(cookie, /^herd_sticky=t-web-\d; Path=\/; HttpOnly$/);
    const pair = cookie.split(';')[0]!;
    for (let i = 0; i < 6; i++) {
      const r = await get(p, '/', { headers: { cookie: `other=1; ${pair}` } });
      assert.equal(r.body, first.body);
      assert.equal(r.headers['set-cookie'], undefined);
    }
    await proxy.close();
    await Promise.all(bs.map((b) => b.close()));
  });

  it('hash by header is stable and spreads different keys', async () => {
    const { proxy, port: p } = await startProxy({
      lb: { algorithm: 'hash', hashOn: { kind: 'header', name: 'X-User' } },
    });
    const bs = await Promise.all(['a', 'b', 'c'].map((n) => httpBackend(n)));
    bs.forEach((b, i) => proxy.replicaReady(replica('web', i + 1, b.port, 80)));
    const seen = new Set<string>();
    for (let u = 0; u < 12; u++) {
      const first = (await get(p, '/', { headers: { 'x-user': `user${u}` } })).body;
      for (let k = 0; k < 3; k++)
        assert.equal((await get(p, '/', { headers: { 'x-user': `user${u}` } })).body, first);
      seen.add(first);
    }
    assert.ok(seen.size >= 2, 'all keys landed on one replica');
    await proxy.close();
    await Promise.all(bs.map((b) => b.close()));
  });

  it('least_conn avoids the busy replica', async () => {
    const { proxy, port: p } = await startProxy({ lb: { algorithm: 'least_conn' } });
    const slow = await httpBackend('slow', (_q, res) => setTimeout(() => res.end('slow'), 400));
    const fast = await httpBackend('fast');
    proxy.replicaReady(replica('web', 1, slow.port, 80));
    proxy.replicaReady(replica('web', 2, fast.port, 80));
    const pending = [get(p), get(p)];
    await new Promise((r) => setTimeout(r, 50));
    const bodies: string[] = [];
    for (let i = 0; i < 5; i++) bodies.push((await get(p)).body);
    assert.ok(bodies.filter((b) => b === 'fast').length >= 4, bodies.join(','));
    await Promise.all(pending);
    await proxy.close();
    await slow.close();
    await fast.close();
  });
});

describe('proxy: WebSocket', () => {
  it('passes an Upgrade and tunnels frames both ways', async () => {
    const server = http.createServer();
    const wss = new WebSocketServer({ server });
    wss.on('connection', (ws) => ws.on('message', (m) => ws.send(`echo:${m.toString()}`)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const bport = (server.address() as net.AddressInfo).port;
    const { proxy, port: p } = await startProxy();
    proxy.replicaReady(replica('web', 1, bport, 80));
    const ws = new WebSocket(`ws://127.0.0.1:${p}/chat`);
    const reply = await new Promise<string>((resolve, reject) => {
      ws.on('open', () => ws.send('hello'));
      ws.on('message', (m) => resolve(m.toString()));
      ws.on('error', reject);
    });
    assert.equal(reply, 'echo:hello');
    assert.equal(proxy.stats()[0]!.connections, 1);
    ws.close();
    await new Promise((r) => ws.on('close', r));
    await proxy.close();
    wss.close();
    await new Promise((r) => server.close(r));
  });
});

describe('proxy: every replica down', () => {
  it('holds a request whose replicas all failed until one comes back', async () => {
    const { proxy, port: p } = await startProxy({ holdMs: 3000 });
    const dead = await freePort(); // nothing listens here: connect is refused
    proxy.replicaReady(replica('web', 1, dead, 80));
    const pending = get(p);
    await new Promise((r) => setTimeout(r, 200));
    const back = await httpBackend('back');
    proxy.replicaReady(replica('web', 1, back.port, 80)); // the engine restarted it elsewhere
    const r = await pending;
    assert.equal(r.status, 200);
    assert.equal(r.body, 'back');
    await proxy.close();
    await back.close();
  });

  it('a streamed body reaches the next replica whole when the first refuses the connect', async () => {
    const { proxy, port: p } = await startProxy({ holdMs: 3000 });
    const back = await httpBackend('back');
    proxy.replicaReady(replica('web', 1, await freePort(), 80)); // refuses every connect
    proxy.replicaReady(replica('web', 2, back.port, 80));
    const body = 'x'.repeat(200_000); // over retryBodyMax: streamed, not buffered
    for (let i = 0; i < 4; i++) {
      // The body comes in several reads, some while herd is still connecting to the dead one.
      const s = net.connect(p, '127.0.0.1');
      const answer = new Promise<string>((resolve) => {
        const chunks: Buffer[] = [];
        s.on('data', (d: Buffer) => chunks.push(d));
        s.on('error', () => {});
        s.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
      });
      s.write(
        `POST /${i} HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
      );
      s.write(body.slice(0, 1000));
      await new Promise((r) => setImmediate(r));
      s.write(body.slice(1000));
      const res = await answer;
      assert.match(res, /^HTTP\/1\.1 200/, res.slice(0, 200));
      assert.ok(res.endsWith(`back:${body}`), `request ${i}: body arrived cut`);
    }
    await proxy.close();
    await back.close();
  });

  it('answers 502 naming the service once the hold time passes', async () => {
    const { proxy, port: p } = await startProxy({ holdMs: 200 });
    proxy.replicaReady(replica('web', 1, await freePort(), 80));
    const r = await get(p);
    assert.equal(r.status, 502);
    assert.match(r.body, /service "web"/);
    await proxy.close();
  });
});

describe('proxy: hostile input', () => {
  it('mutated and truncated requests never take it down', async () => {
    const { proxy, port: p } = await startProxy({ headerTimeoutMs: 300 });
    const b = await httpBackend('ok');
    proxy.replicaReady(replica('web', 1, b.port, 80));
    const seed = Buffer.from(
      'POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nCookie: a=b\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    );
    let rnd = 12345;
    const next = (n: number): number => {
      rnd = (Math.imul(rnd, 1103515245) + 12345) >>> 0;
      return rnd % n;
    };
    const cases: Buffer[] = [];
    for (let i = 0; i < 120; i++) {
      const m = Buffer.from(seed);
      for (let k = 0; k < 1 + next(4); k++) m[next(m.length)] = next(256);
      cases.push(i % 3 === 0 ? m.subarray(0, next(m.length)) : m);
    }
    for (let i = 0; i < cases.length; i += 20) {
      await Promise.all(cases.slice(i, i + 20).map((c) => rawExchange(p, c, 1000)));
    }
    const r = await get(p);
    assert.equal(r.status, 200);
    assert.equal(r.body, 'ok');
    await proxy.close();
    await b.close();
  });
});
