// Response and request framing the proxy must get exactly right to keep both connections
// reusable: HEAD/204/304 without bodies, chunked responses, large streamed bodies, 100-continue.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHash } from 'node:crypto';
import { createProxy } from '../../src/proxy/index.ts';
import type { Proxy } from '../../src/proxy/index.ts';
import {
  freePort,
  get,
  httpBackend,
  makeProject,
  makeService,
  port,
  replica,
} from '../helpers/backends.ts';
import type { Backend } from '../helpers/backends.ts';

describe('proxy: framing', () => {
  let backend: Backend;
  let proxy: Proxy;
  let p: number;
  before(async () => {
    backend = await httpBackend('f', (req, res) => {
      const url = req.url ?? '/';
      if (url === '/204') {
        res.statusCode = 204;
        return res.end();
      }
      if (url === '/304') {
        res.statusCode = 304;
        return res.end();
      }
      if (url === '/chunked') {
        res.write('part1-');
        setTimeout(() => res.end('part2'), 20);
        return;
      }
      if (url === '/hash') {
        const h = createHash('sha256');
        let n = 0;
        req.on('data', (c: Buffer) => {
          n += c.length;
          h.update(c);
        });
        req.on('end', () => res.end(`${n}:${h.digest('hex')}`));
        return;
      }
      res.setHeader('content-length', '5');
      res.end(req.method === 'HEAD' ? undefined : 'hello');
    });
    p = await freePort();
    proxy = createProxy(makeProject([makeService('web', { ports: [port(p, 80)] })]));
    await proxy.listen();
    proxy.replicaReady(replica('web', 1, backend.port, 80));
  });
  after(async () => {
    await proxy.close();
    await backend.close();
  });

  it('HEAD, 204 and 304 carry no body and the connection stays usable', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const head = await get(p, '/', { agent, method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '5');
    assert.equal(head.body, '');
    assert.equal((await get(p, '/204', { agent })).status, 204);
    assert.equal((await get(p, '/304', { agent })).status, 304);
    assert.equal((await get(p, '/', { agent })).body, 'hello');
    agent.destroy();
  });

  it('passes a chunked response through and reuses the connection after it', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const r = await get(p, '/chunked', { agent });
    assert.equal(r.headers['transfer-encoding'], 'chunked');
    assert.equal(r.body, 'part1-part2');
    assert.equal((await get(p, '/', { agent })).body, 'hello');
    agent.destroy();
  });

  it('streams a 2 MiB chunked request body unchanged', async () => {
    const data = Buffer.alloc(2 * 1024 * 1024, 7);
    for (let i = 0; i < data.length; i += 4096) data[i] = i & 0xff;
    const want = `${data.length}:${createHash('sha256').update(data).digest('hex')}`;
    const got = await new Promise<string>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: p, path: '/hash', method: 'POST', agent: false },
        (res) => {
          let b = '';
          res.on('data', (c) => (b += c));
          res.on('end', () => resolve(b));
        },
      );
      req.on('error', reject);
      for (let i = 0; i < data.length; i += 65536) req.write(data.subarray(i, i + 65536));
      req.end();
    });
    assert.equal(got, want);
  });

  it('Expect: 100-continue gets its interim answer and the body goes through', async () => {
    const got = await new Promise<string>((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1',
        port: p,
        path: '/hash',
        method: 'POST',
        agent: false,
        headers: { expect: '100-continue', 'content-length': '3' },
      });
      req.on('continue', () => req.end('abc'));
      req.on('response', (res) => {
        let b = '';
        res.on('data', (c) => (b += c));
        res.on('end', () => resolve(b));
      });
      req.on('error', reject);
    });
    assert.match(got, /^3:ba7816bf/);
  });
});
