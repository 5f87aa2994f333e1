// Slow start's other half (issue 12): a replica that joins a serving pool and listens but does not
// answer its first request is set aside, and that request goes to a replica that serves instead
// of waiting for the upstream timeout (after 40 ms when it can be sent again, 1 s when it
// cannot); a service that is slow by nature is not mistaken for it.
// Real backends over real sockets, herd's balancer in this process.
import assert from 'node:assert/strict';
import type http from 'node:http';
import { after, describe, it } from 'node:test';
import { createProxy, type Proxy } from '../../src/proxy/index.ts';
import {
  freePort,
  get,
  httpBackend,
  makeProject,
  makeService,
  port,
  replica,
  type Backend,
} from '../helpers/backends.ts';

const UPSTREAM_TIMEOUT_MS = 20_000;

async function startProxy(slowStartMs = 60_000): Promise<{ proxy: Proxy; port: number }> {
  const p = await freePort();
  const svc = makeService('web', { ports: [port(p, 80, { appProtocol: 'http' })] });
  const proxy = createProxy(makeProject([svc]), {
    slowStartMs,
    limits: { upstreamTimeoutMs: UPSTREAM_TIMEOUT_MS },
  });
  await proxy.listen();
  return { proxy, port: p };
}

/** Answers with its name after `ms`. */
const slowBy = (name: string, ms: number) =>
  httpBackend(name, (_req, res: http.ServerResponse) => {
    setTimeout(() => res.end(name), ms);
  });

async function timed(p: number, opts?: Parameters<typeof get>[2]) {
  const t0 = Date.now();
  const r = await get(p, '/', opts);
  return { ...r, ms: Date.now() - t0 };
}

describe('proxy: slow start sets a silent new replica aside', () => {
  const open: { proxy: Proxy; backends: Backend[] }[] = [];
  after(async () => {
    for (const o of open) {
      await o.proxy.close();
      await Promise.all(o.backends.map((b) => b.close()));
    }
  });

  /** A proxy whose pool has `serving` as web-1, already answering; join() adds `newcomer` as
   * web-2 next to it. Returns the published port. */
  async function servingPool(serving: Backend, newcomer: Backend, slowStartMs?: number) {
    const { proxy, port: p } = await startProxy(slowStartMs);
    open.push({ proxy, backends: [serving, newcomer] });
    proxy.replicaReady(replica('web', 1, serving.port, 80));
    assert.equal((await get(p)).body, serving.name, 'web-1 serves');
    return { p, join: () => proxy.replicaReady(replica('web', 2, newcomer.port, 80)) };
  }

  it('its first request is answered by a serving replica within seconds, and it gets no more', async () => {
    const a = await httpBackend('a');
    const held: http.ServerResponse[] = [];
    const silent = await httpBackend('silent', (_req, res) => void held.push(res));
    const { p, join } = await servingPool(a, silent);
    join();
    // The new member gets the next request first (slow start), does not answer, and is set
    // aside: the request is sent again to web-1.
    const first = await timed(p);
    assert.equal(silent.hits, 1, 'the silent replica was tried first');
    assert.equal(first.status, 200);
    assert.equal(first.body, 'a');
    assert.ok(first.ms < 5000, `answered in ${first.ms} ms, not after the upstream timeout`);
    for (let i = 0; i < 10; i++) assert.equal((await get(p)).body, 'a');
    assert.equal(silent.hits, 1, 'set aside: no further request reached it');
    for (const r of held) r.end();
  });

  it('a request that can be sent again waits 40 ms, not 1 s, for a cold replica', async () => {
    const a = await httpBackend('a');
    const cold = await slowBy('cold', 600);
    const { p, join } = await servingPool(a, cold);
    join();
    // Within the 1 s a request that cannot be resent waits, the cold replica would answer it
    // (600 ms); a GET is resent to web-1 after 40 ms instead.
    const first = await timed(p);
    assert.deepEqual([first.status, first.body, cold.hits], [200, 'a', 1]);
    assert.ok(first.ms < 600, `answered in ${first.ms} ms`);
  });

  it('past the slow-start window, a cold first answer is awaited up to 1 s again', async () => {
    const a = await httpBackend('a');
    const cold = await slowBy('cold', 600);
    const { p, join } = await servingPool(a, cold, 300);
    await new Promise((r) => setTimeout(r, 400)); // web-1 past its own ramp: web-2 ramps
    join();
    await new Promise((r) => setTimeout(r, 400)); // no request during web-2's window
    // Round robin: web-2's turn comes within two requests; that one waits for its answer.
    let answer = await timed(p);
    if (cold.hits === 0) answer = await timed(p);
    assert.deepEqual([answer.body, cold.hits], ['cold', 1]);
  });

  it('a request that cannot be sent twice waits for the new replica instead', async () => {
    const a = await httpBackend('a');
    const late = await slowBy('late', 1800);
    const { p, join } = await servingPool(a, late);
    join();
    const post = await timed(p, { method: 'POST', body: 'x' });
    assert.equal(post.body, 'late', 'a POST is never replayed to another replica');
    assert.equal(a.hits, 1);
  });

  it('a new replica as slow as those that serve is not set aside', async () => {
    const old = await slowBy('old', 500);
    const next = await slowBy('next', 1300);
    const { p, join } = await servingPool(old, next);
    join();
    // 1.3 s is past the 1 s floor but within 4 x what web-1 takes (500 ms): it is awaited.
    const first = await timed(p);
    assert.equal(first.body, 'next');
    assert.equal(old.hits, 1, 'the request was not sent again to web-1');
  });

  it('a slow replica set aside stays the last resort: when the others fail, the request waits for it', async () => {
    const a = await httpBackend('a');
    const late = await slowBy('late', 2500);
    const { p, join } = await servingPool(a, late);
    join();
    // web-1 dies before the balancer hears of it (a kill -9 between two events): the request
    // set aside from the slow web-2 finds web-1 refusing, and goes back to web-2 to wait.
    await a.close();
    const first = await timed(p);
    assert.equal(first.status, 200, `${first.status} ${first.body}`);
    assert.equal(first.body, 'late');
    assert.equal(late.hits, 2, 'sent to web-2, set aside, then to web-2 again as the last resort');
  });
});
