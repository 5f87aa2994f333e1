// Member selection: algorithms, stickiness, ejection, holding for an empty pool.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Balancer } from '../../src/proxy/balancer.ts';
import type { LbSettings } from '../../src/proxy/balancer.ts';
import { ReplicaCounters } from '../../src/proxy/counters.ts';

function pool(lb: LbSettings, n: number): Balancer {
  const b = new Balancer({ service: 'web', lb, ejectAfter: 2, ejectMs: 60_000 });
  for (let i = 1; i <= n; i++)
    b.add(`web-${i}`, '127.0.0.1', 1000 + i, new ReplicaCounters(`web-${i}`, 'web'));
  return b;
}

describe('Balancer', () => {
  it('round robin cycles in order and skips tried members', () => {
    const b = pool({ algorithm: 'round_robin' }, 3);
    assert.deepEqual(
      [1, 2, 3, 4].map(() => b.pick(null, null)?.id),
      ['web-1', 'web-2', 'web-3', 'web-1'],
    );
    const tried = [b.member('web-2')!, b.member('web-3')!];
    for (let i = 0; i < 3; i++) assert.equal(b.pick(tried, null)?.id, 'web-1');
    assert.equal(b.pick([...tried, b.member('web-1')!], null), undefined);
  });

  it('least_conn and p2c prefer fewer in-flight requests', () => {
    for (const algorithm of ['least_conn', 'p2c'] as const) {
      const b = pool({ algorithm }, 2);
      b.member('web-1')!.inFlight = 5;
      for (let i = 0; i < 20; i++) assert.equal(b.pick(null, null)?.id, 'web-2', algorithm);
    }
  });

  it('hash: same key same member; removing a member moves only its keys', () => {
    const b = pool({ algorithm: 'hash', hashOn: { kind: 'header', name: 'X-User' } }, 4);
    const ctx = (k: string) => ({ header: (n: string) => (n === 'x-user' ? k : undefined) });
    const before = new Map<string, string>();
    for (let k = 0; k < 200; k++) before.set(`u${k}`, b.pick(null, ctx(`u${k}`))!.id);
    assert.ok(new Set(before.values()).size === 4);
    b.remove('web-3');
    for (const [k, id] of before) {
      const now = b.pick(null, ctx(k))!.id;
      if (id !== 'web-3') assert.equal(now, id, `key ${k} moved although its member stayed`);
      else assert.notEqual(now, 'web-3');
    }
  });

  it('sticky cookie wins while its member is in the pool', () => {
    const b = pool({ algorithm: 'round_robin', stickyCookie: 's' }, 3);
    const ctx = { cookie: (n: string) => (n === 's' ? 'web-3' : undefined) };
    for (let i = 0; i < 5; i++) assert.equal(b.pick(null, ctx)?.id, 'web-3');
    b.remove('web-3');
    assert.notEqual(b.pick(null, ctx)?.id, 'web-3');
  });

  it('ejects a member after consecutive connect failures, unless nothing else is left', () => {
    const b = pool({ algorithm: 'round_robin' }, 2);
    const m1 = b.member('web-1')!;
    b.connectFailed(m1);
    b.connectFailed(m1);
    for (let i = 0; i < 4; i++) assert.equal(b.pick(null, null)?.id, 'web-2');
    b.remove('web-2');
    assert.equal(b.pick(null, null)?.id, 'web-1');
  });

  it('holds a waiter until a member joins, or times out', async () => {
    const b = pool({ algorithm: 'round_robin' }, 0);
    const got = new Promise<string | undefined>((r) => b.waitForMember(2000, (m) => r(m?.id)));
    setTimeout(() => b.add('late', '127.0.0.1', 1, new ReplicaCounters('late', 'web')), 20);
    assert.equal(await got, 'late');
    b.remove('late');
    const none = await new Promise<string | undefined>((r) => b.waitForMember(30, (m) => r(m?.id)));
    assert.equal(none, undefined);
  });

  it('slow start: a member joining a serving pool gets one request first, then a growing share', () => {
    const b = new Balancer({
      service: 'web',
      lb: { algorithm: 'round_robin' },
      slowStartMs: 60_000,
    });
    const counters = (id: string) => new ReplicaCounters(id, 'web');
    const old = b.add('web-1', '127.0.0.1', 1001, counters('web-1'));
    // Members of a pool that is starting (nobody has answered yet) take their share at once.
    const peer = b.add('web-2', '127.0.0.1', 1002, counters('web-2'));
    assert.equal(peer.since, 0);
    old.counters.requests = 1; // web-1 has answered: it serves
    old.since = Date.now() - 120_000;
    const fresh = b.add('web-3', '127.0.0.1', 1003, counters('web-3'));
    assert.notEqual(fresh.since, 0);
    assert.equal(b.pick(null, null)?.id, 'web-3', 'a new member is tried at once');
    // Its first request is still unanswered: it is set aside meanwhile.
    fresh.inFlight = 1;
    for (let i = 0; i < 20; i++) assert.notEqual(b.pick(null, null)?.id, 'web-3');
    // Answered: from here its share ramps up from 10 %, far below the others' for now.
    fresh.inFlight = 0;
    fresh.counters.requests = 1;
    const picks = Array.from({ length: 210 }, () => b.pick(null, null)!.id);
    const share = picks.filter((id) => id === 'web-3').length / picks.length;
    assert.ok(share > 0.02 && share < 0.1, `share ${share}`);
    // Past the window it is a member like any other.
    fresh.since = Date.now() - 60_000;
    const later = Array.from({ length: 30 }, () => b.pick(null, null)!.id);
    assert.equal(later.filter((id) => id === 'web-3').length, 10);
  });

  it('slow start: when every member is set aside, one still gets the request', () => {
    const b = new Balancer({
      service: 'web',
      lb: { algorithm: 'least_conn' },
      slowStartMs: 60_000,
    });
    const a = b.add('web-1', '127.0.0.1', 1001, new ReplicaCounters('web-1', 'web'));
    a.counters.requests = 1;
    a.since = Date.now() - 120_000;
    const n = b.add('web-2', '127.0.0.1', 1002, new ReplicaCounters('web-2', 'web'));
    b.remove('web-1');
    n.inFlight = 1;
    assert.equal(b.pick(null, null)?.id, 'web-2');
  });
});
