// The dashboard's access rules, its token file, its history and its settings, without a server.
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ComposeError } from '../../src/compose/errors.ts';
import { parseListenAddress, addressUrl } from '../../src/compose/listen-address.ts';
import { loadProject } from '../../src/compose/load.ts';
import { Access } from '../../src/dashboard/access.ts';
import { HistoryRecorder, quantile } from '../../src/dashboard/history.ts';
import { loadOrCreateToken, sameToken } from '../../src/dashboard/token.ts';
import type { StateView } from '../../src/dashboard/types.ts';
import { tempDir } from '../helpers/tmp.ts';

const TOKEN = 'secret-token-0123456789';
const request = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

describe('dashboard access', () => {
  const access = new Access(TOKEN, new URL('http://127.0.0.1:9465'), false);

  it('takes the token from its cookie or a Bearer header, nothing else', () => {
    assert.equal(access.authorized(request({})), false);
    assert.equal(access.authorized(request({ cookie: `herd_dashboard_9465=${TOKEN}` })), true);
    assert.equal(
      access.authorized(request({ cookie: `a=b; herd_dashboard_9465=${TOKEN}; c=d` })),
      true,
    );
    assert.equal(access.authorized(request({ cookie: `herd_dashboard_9466=${TOKEN}` })), false);
    assert.equal(access.authorized(request({ cookie: 'herd_dashboard_9465=wrong' })), false);
    assert.equal(access.authorized(request({ authorization: `Bearer ${TOKEN}` })), true);
    assert.equal(access.authorized(request({ authorization: 'Bearer nope' })), false);
    assert.equal(access.tokenMatches(TOKEN), true);
    assert.equal(access.tokenMatches(TOKEN.slice(0, -1)), false);
    assert.equal(access.tokenMatches(null), false);
  });

  it('answers only to its own host names (no DNS rebinding)', () => {
    for (const host of ['127.0.0.1:9465', 'localhost:9465', 'LOCALHOST:9465', '[::1]:9465'])
      assert.equal(access.hostAllowed(host), true, host);
    for (const host of [undefined, 'evil.example:9465', '127.0.0.1:80', 'localhost'])
      assert.equal(access.hostAllowed(host), false, String(host));
    const open = new Access(TOKEN, new URL('http://127.0.0.1:9465'), true);
    assert.equal(open.hostAllowed('10.0.0.5:9465'), true);
    assert.equal(open.hostAllowed(undefined), false);
  });

  it('lets actions come from its own page only', () => {
    assert.equal(access.sameOrigin(request({ origin: 'http://127.0.0.1:9465' })), true);
    assert.equal(access.sameOrigin(request({ origin: 'http://evil.example' })), false);
    assert.equal(access.sameOrigin(request({ origin: 'http://127.0.0.1:9466' })), false);
    assert.equal(access.sameOrigin(request({ origin: 'null' })), false);
    assert.equal(access.sameOrigin(request({ 'sec-fetch-site': 'same-origin' })), true);
    assert.equal(access.sameOrigin(request({ 'sec-fetch-site': 'cross-site' })), false);
    assert.equal(access.sameOrigin(request({})), false);
    assert.equal(access.sameOrigin(request({ authorization: `Bearer ${TOKEN}` })), true);
    assert.match(access.cookieHeader(), /HttpOnly; SameSite=Strict; Path=\//);
  });
});

describe('dashboard token', () => {
  it('is made once, private, and kept', () => {
    const file = path.join(tempDir('dash-token'), 'dashboard.token');
    const token = loadOrCreateToken(file);
    assert.ok(token.length >= 32);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(loadOrCreateToken(file), token);
    assert.equal(readFileSync(file, 'utf8'), token);
    assert.equal(sameToken(token, token), true);
    assert.equal(sameToken(undefined, token), false);
  });

  it('refuses a token file others can read or write', () => {
    const file = path.join(tempDir('dash-token'), 'dashboard.token');
    writeFileSync(file, 'planted-token-planted-token');
    chmodSync(file, 0o644);
    assert.throws(() => loadOrCreateToken(file), /not a private file of this user \(mode 644/);
  });
});

describe('dashboard history', () => {
  const state = (now: number, requests: number[], running = requests.length): StateView => ({
    project: 'p',
    now,
    services: [{ name: 'web', scale: requests.length, stopped: false }],
    replicas: requests.map((n, i) => ({
      name: `p-web-${i + 1}`,
      service: 'web',
      state: i < running ? 'running' : 'exited',
      cpuPercent: 10,
      memBytes: 1000,
      traffic: { requests: n, errors: 0, inFlight: 0 },
    })),
  });

  it('turns counters into requests per second, never negative after a reset', () => {
    const h = new HistoryRecorder(3);
    h.record(state(0, [0, 0]));
    h.record(state(1000, [10, 30]));
    h.record(state(3000, [20, 30], 1));
    h.record(state(4000, [5, 40]));
    const web = h.snapshot().web!;
    assert.equal(web.length, 3, 'keeps the last 3 samples');
    assert.deepEqual(
      web.map((s) => [s.rps, s.running, s.cpuPercent, s.memBytes]),
      [
        [40, 2, 20, 2000],
        [5, 1, 20, 2000],
        // web-1's counter restarted (5 < 20): only web-2's growth counts.
        [10, 2, 20, 2000],
      ],
    );
  });

  it('works out p50/p99 from the growth of the latency buckets, per replica and per service', () => {
    const h = new HistoryRecorder();
    const at = (now: number, buckets: number[]): StateView => {
      const s = state(now, [buckets.reduce((a, b) => a + b, 0)]);
      s.replicas[0]!.traffic!.latencyBuckets = buckets;
      return s;
    };
    const zero = new Array<number>(13).fill(0);
    h.record(at(0, zero));
    // 100 requests in a second: 90 between 2 and 5 ms, 10 between 50 and 100 ms.
    const grown = zero.map((_, i) => (i === 2 ? 90 : i === 6 ? 10 : 0));
    const second = at(1000, grown);
    h.record(second);
    const sample = h.snapshot().web!.at(-1)!;
    assert.equal(sample.rps, 100);
    // Interpolated within the bucket, as Prometheus' histogram_quantile does.
    assert.ok(Math.abs(sample.p50! - (2 + (50 / 90) * 3) / 1000) < 1e-9, String(sample.p50));
    assert.ok(Math.abs(sample.p99! - (50 + (9 / 10) * 50) / 1000) < 1e-9, String(sample.p99));
    assert.deepEqual(second.replicas[0]!.traffic!.latency, { p50: sample.p50, p99: sample.p99 });
    assert.equal(second.replicas[0]!.traffic!.rps, 100);
    // No request since: no latency, rather than the old one again.
    h.record(at(2000, grown));
    assert.equal(h.snapshot().web!.at(-1)!.p99, undefined);
    assert.equal(
      quantile([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3], 0.5),
      5,
      'overflow: the last bound',
    );
  });

  it('forgets services the stack no longer has', () => {
    const h = new HistoryRecorder();
    h.record(state(0, [1]));
    h.record({ ...state(1000, []), services: [] });
    assert.deepEqual(h.snapshot(), {});
  });
});

describe('dashboard settings', () => {
  it('parses listen addresses, loopback by default', () => {
    assert.deepEqual(parseListenAddress('127.0.0.1:9465'), { host: '127.0.0.1', port: 9465 });
    assert.deepEqual(parseListenAddress(9465), { host: '127.0.0.1', port: 9465 });
    assert.deepEqual(parseListenAddress(':9465'), { host: '127.0.0.1', port: 9465 });
    assert.deepEqual(parseListenAddress('[::1]:80'), { host: '::1', port: 80 });
    assert.equal(addressUrl({ host: '0.0.0.0', port: 1 }), 'http://127.0.0.1:1');
    assert.equal(addressUrl({ host: '::1', port: 1 }), 'http://[::1]:1');
    assert.match(String(parseListenAddress('127.0.0.1:70000')), /outside 1-65535/);
    assert.match(String(parseListenAddress('example.com:80')), /not an IP address/);
    assert.match(String(parseListenAddress('')), /expected an address/);
  });

  it('reports a bad x-herd.dashboard at file:line:col', async () => {
    const dir = tempDir('dash-settings');
    await writeFile(
      path.join(dir, 'compose.yaml'),
      [
        'x-herd:',
        '  dashboard:',
        '    listen: "127.0.0.1:99999"',
        '    lisen: 1',
        'services:',
        '  web: { command: ["true"] }',
        '',
      ].join('\n'),
    );
    await assert.rejects(loadProject({ cwd: dir, env: {} }), (err: unknown) => {
      assert.ok(err instanceof ComposeError);
      assert.match(err.message, /compose\.yaml:3:13: x-herd\.dashboard\.listen: port 99999/);
      assert.match(err.message, /compose\.yaml:4:5: x-herd\.dashboard\.lisen: unknown key/);
      return true;
    });
  });
});
