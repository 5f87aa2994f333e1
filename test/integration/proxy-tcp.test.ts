// herd's balancer in TCP mode (per-connection piping) and protocol sniffing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { createProxy } from '../../src/proxy/index.ts';
import {
  echoBackend,
  freePort,
  get,
  httpBackend,
  makeProject,
  makeService,
  port,
  replica,
} from '../helpers/backends.ts';

/** Connect, send `msg`, resolve with the first reply. */
function ask(p: number, msg: string | null, ms = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(p, '127.0.0.1');
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error('no reply'));
    }, ms);
    s.on('data', (d) => {
      clearTimeout(timer);
      s.destroy();
      resolve(d.toString());
    });
    s.on('error', reject);
    s.on('close', () => {
      clearTimeout(timer);
      resolve('');
    });
    if (msg !== null) s.write(msg);
  });
}

async function tcpProxy(appProtocol?: string, sniffMs = 200) {
  const p = await freePort();
  const proxy = createProxy(
    makeProject([
      makeService('db', { ports: [port(p, 6379, appProtocol ? { appProtocol } : {})] }),
    ]),
    {
      sniffMs,
      limits: { holdMs: 200 },
    },
  );
  await proxy.listen();
  return { proxy, p };
}

/** Connects, stays silent for 400 ms (past the sniff wait), then sends `data`; returns all bytes. */
function lateRequest(port: number, data: string): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    s.on('data', (d) => (got += d.toString('latin1')));
    s.on('error', () => {});
    s.on('close', () => resolve(got));
    setTimeout(() => s.write(data), 400);
    setTimeout(() => s.destroy(), 3000);
  });
}

describe('proxy: TCP mode', () => {
  it('balances connections of a TCP echo over its replicas, and skips a dead one', async () => {
    const { proxy, p } = await tcpProxy('tcp');
    const bs = await Promise.all(['e1', 'e2'].map((n) => echoBackend(n)));
    bs.forEach((b, i) => proxy.replicaReady(replica('db', i + 1, b.port, 6379)));
    const replies = [];
    for (let i = 0; i < 4; i++) replies.push(await ask(p, 'ping'));
    assert.deepEqual(replies.sort(), ['e1:ping', 'e1:ping', 'e2:ping', 'e2:ping']);
    await bs[0]!.close(); // engine has not noticed: connect failure → next replica
    for (let i = 0; i < 4; i++) assert.equal(await ask(p, 'x'), 'e2:x');
    await bs[1]!.close();
    assert.equal(await ask(p, 'x'), '', 'with no replica left the connection is closed');
    await proxy.close();
  });

  it('proxies a real Redis (RESP PING → +PONG)', async () => {
    const rport = await freePort();
    const redis = spawn(
      'redis-server',
      ['--port', String(rport), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    );
    try {
      for (let i = 0; i < 50; i++) {
        const up = await new Promise<boolean>((r) => {
          const s = net.connect(rport, '127.0.0.1', () => {
            s.destroy();
            r(true);
          });
          s.on('error', () => r(false));
        });
        if (up) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const { proxy, p } = await tcpProxy(); // no app_protocol: sniffed as not-HTTP
      proxy.replicaReady(replica('db', 1, rport, 6379));
      assert.equal(await ask(p, '*1\r\n$4\r\nPING\r\n'), '+PONG\r\n');
      assert.equal(await ask(p, 'PING\r\n'), '+PONG\r\n'); // inline command: uppercase, no space
      // An inline command with arguments looks like a request line but for its missing version.
      assert.equal(await ask(p, 'SET greeting hello\r\n'), '+OK\r\n');
      assert.equal(await ask(p, 'GET greeting\r\n'), '$5\r\nhello\r\n');
      await proxy.close();
    } finally {
      redis.kill('SIGKILL');
    }
  });

  it('sniffing: HTTP clients are balanced per request, others piped, silent clients go TCP', async () => {
    const { proxy, p } = await tcpProxy(undefined, 150);
    // A backend that speaks first (like MySQL/SMTP) or answers HTTP, depending on who talks.
    const greet = net.createServer((s) => {
      let first = true;
      const timer = setTimeout(() => s.write('220 hello\r\n'), 50);
      s.on('data', (d) => {
        clearTimeout(timer);
        if (first && d.toString().startsWith('GET '))
          s.end('HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nhttp');
        else s.write(`raw:${d.toString()}`);
        first = false;
      });
      s.on('error', () => {});
    });
    await new Promise<void>((r) => greet.listen(0, '127.0.0.1', r));
    proxy.replicaReady(replica('db', 1, (greet.address() as net.AddressInfo).port, 6379));
    assert.equal(await ask(p, null), '220 hello\r\n');
    const r = await get(p);
    assert.equal(r.body, 'http');
    assert.equal(await ask(p, '\x16\x03\x01binary'), 'raw:\x16\x03\x01binary');
    // Once the port has seen HTTP, a client that stays silent past the sniff wait is still read
    // as HTTP (not piped raw with headers of its own making, such as X-Forwarded-For)…
    const late = await lateRequest(
      p,
      'GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n',
    );
    assert.match(late, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nhttp$/);
    // …and so is a request behind empty lines.
    assert.match(await ask(p, '\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n'), /^HTTP\/1\.1 200 OK/);
    await proxy.close();
    await new Promise((res) => greet.close(res));
  });

  it('app_protocol http forces HTTP mode even for an HTTP backend on a plain listener', async () => {
    const { proxy, p } = await tcpProxy('http');
    const b = await httpBackend('h');
    proxy.replicaReady(replica('db', 1, b.port, 6379));
    const r = await get(p, '/');
    assert.equal(r.body, 'h');
    assert.equal(proxy.stats()[0]!.requests, 1);
    await proxy.close();
    await b.close();
  });
});
