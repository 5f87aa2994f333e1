// At its file descriptor limit the balancer answers new clients 503 at once (instead of the
// resets libuv hands out at EMFILE), says so once with the limit, and serves again as soon as
// connections close: a real balancer process under `prlimit --nofile`, raw clients.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { freePort, httpBackend } from '../helpers/backends.ts';
import type { Backend } from '../helpers/backends.ts';
import { rawConnect, rawRequest } from '../helpers/raw-http.ts';
import type { RawConn } from '../helpers/raw-http.ts';

const LIMIT = 150;

describe('proxy: out of file descriptors', () => {
  let backend: Backend;
  let child: ChildProcess;
  let stderr = '';
  let p: number;
  before(async () => {
    backend = await httpBackend('a');
    p = await freePort();
    child = spawn(
      'prlimit',
      [
        `--nofile=${LIMIT}:${LIMIT}`,
        '--',
        process.execPath,
        '--import',
        'tsx',
        'test/helpers/fd-limited-proxy.ts',
        String(p),
        String(backend.port),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      child.on('exit', (code) => reject(new Error(`balancer exited (${code}): ${stderr}`)));
    });
  });
  after(async () => {
    child.kill('SIGKILL');
    await backend.close();
  });

  it('answers 503 promptly at the limit, logs it once with the limit, and recovers', async () => {
    const held: RawConn[] = [];
    let refused = 0;
    try {
      // Hold keep-alive connections open until the balancer turns one away.
      for (let i = 0; i < LIMIT && refused === 0; i++) {
        const c = await rawConnect(p);
        const t0 = Date.now();
        c.send('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
        const r = await c.next(2000);
        assert.ok(Date.now() - t0 < 1000, `answer ${i} took ${Date.now() - t0} ms`);
        if (r.status === 503) {
          refused++;
          assert.deepEqual(r.headers.get('connection'), ['close']);
          assert.ok(await c.closed(1000), 'the refused connection is closed');
          c.destroy();
        } else {
          assert.equal(r.status, 200);
          held.push(c);
        }
      }
      assert.equal(refused, 1, `no 503 with ${held.length} connections held`);
      assert.ok(held.length > 20, `only ${held.length} connections before the 503`);
      // still refusing while full, and said only once
      for (let i = 0; i < 5; i++)
        assert.equal((await rawRequest(p, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', 100)).status, 503);
      const said = stderr.match(/out of file descriptors \(limit (\d+)/g) ?? [];
      assert.equal(said.length, 1, stderr);
      assert.match(said[0]!, new RegExp(`limit ${LIMIT}`));
    } finally {
      for (const c of held.splice(0)) c.destroy();
    }
    // connections closed: served again
    const end = Date.now() + 3000;
    let status = 0;
    while (Date.now() < end && status !== 200) {
      status = (await rawRequest(p, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', 50)).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(status, 200);
    assert.match(stderr, /file descriptors available again \(limit 150\)/);
  });
});
