import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { LogEntry } from '../../src/logs/record.ts';
import { LogStore } from '../../src/logs/store.ts';
import { tempDir } from '../helpers/tmp.ts';

const store = (policy = {}) => new LogStore(join(tempDir('logs'), 'logs'), 'shop', policy);

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('log store', () => {
  it('writes one NDJSON file per replica and reads back merged by time', () => {
    const s = store();
    s.append('shop-web-1', { t: 10, stream: 'stdout', line: 'a' });
    s.append('shop-web-2', { t: 5, stream: 'stderr', line: 'b' });
    s.append('shop-db-1', { t: 7, stream: 'stdout', line: 'c' });
    const lines = readFileSync(join(s.dir, 'shop-web-1.log'), 'utf8').trim().split('\n');
    assert.deepEqual(JSON.parse(lines[0]!), { t: 10, stream: 'stdout', line: 'a' });
    assert.deepEqual(
      s.read().map((e) => [e.name, e.service, e.line]),
      [
        ['shop-web-2', 'web', 'b'],
        ['shop-db-1', 'db', 'c'],
        ['shop-web-1', 'web', 'a'],
      ],
    );
    assert.deepEqual(
      s.read({ services: ['web'] }).map((e) => e.line),
      ['b', 'a'],
    );
    assert.equal(s.serviceOf('shop-my-api-12'), 'my-api');
    assert.equal(statSync(join(s.dir, 'shop-web-1.log')).mode & 0o777, 0o600);
  });

  it('tail counts per replica and since filters by time', () => {
    const s = store();
    for (let i = 1; i <= 5; i++) {
      s.append('shop-web-1', { t: i * 10, stream: 'stdout', line: `w${i}` });
      s.append('shop-web-2', { t: i * 10 + 1, stream: 'stdout', line: `v${i}` });
    }
    assert.deepEqual(
      s.read({ tail: 2 }).map((e) => e.line),
      ['w4', 'v4', 'w5', 'v5'],
    );
    assert.deepEqual(
      s.read({ since: 31 }).map((e) => e.line),
      ['v3', 'w4', 'v4', 'w5', 'v5'],
    );
    assert.deepEqual(s.read({ tail: 0 }), []);
  });

  it('rotates by size, keeps maxFiles generations, and reads across them in order', () => {
    const s = store({ maxBytes: 200, maxFiles: 3 });
    for (let i = 0; i < 40; i++)
      s.append('shop-web-1', {
        t: i,
        stream: 'stdout',
        line: `line ${String(i).padStart(3, '0')}`,
      });
    const base = join(s.dir, 'shop-web-1.log');
    assert.ok(existsSync(base) && existsSync(base + '.1') && existsSync(base + '.2'));
    assert.equal(existsSync(base + '.3'), false);
    for (const f of [base, base + '.1', base + '.2']) assert.ok(statSync(f).size <= 200);
    const read = s.read().map((e) => e.t);
    // The newest lines survive, oldest dropped, order intact.
    assert.equal(read.at(-1), 39);
    assert.deepEqual(
      read,
      [...read].sort((a, b) => a - b),
    );
    assert.ok(read.length < 40 && read.length >= 6);
    assert.deepEqual(
      s.read({ tail: 3 }).map((e) => e.t),
      [37, 38, 39],
    );
  });

  it('skips a torn last line instead of failing', () => {
    const s = store();
    s.append('shop-web-1', { t: 1, stream: 'stdout', line: 'ok' });
    // A daemon killed mid-write leaves half a line.
    appendFileSync(join(s.dir, 'shop-web-1.log'), '{"t":2,"stre');
    assert.deepEqual(
      s.read().map((e) => e.line),
      ['ok'],
    );
  });

  it('follow survives its file being rotated out of existence between polls', async () => {
    const s = store({ maxBytes: 100, maxFiles: 2 });
    s.append('shop-web-1', { t: 1, stream: 'stdout', line: 'first' });
    const got: string[] = [];
    const f = s.follow({}, (e) => got.push(e.line), 20);
    try {
      // Each line is ~40 bytes: the followed file is rotated to .1 and then dropped.
      for (let i = 0; i < 5; i++)
        s.append('shop-web-1', { t: 2 + i, stream: 'stdout', line: `n${i}` });
      await until(() => got.includes('n4'));
      // Everything still on disk or in the followed (now deleted) file arrives, in order.
      assert.deepEqual(got, ['first', 'n0', 'n1', 'n2', 'n3', 'n4']);
    } finally {
      f.close();
      s.close();
    }
  });

  it('follow: history, then appends, across rotation and for new replicas', async () => {
    const s = store({ maxBytes: 200, maxFiles: 4 });
    s.append('shop-web-1', { t: 1, stream: 'stdout', line: 'old-1' });
    s.append('shop-web-1', { t: 2, stream: 'stdout', line: 'old-2' });
    s.append('shop-db-1', { t: 3, stream: 'stdout', line: 'db-old' });
    const got: LogEntry[] = [];
    const f = s.follow({ tail: 1, services: ['web'] }, (e) => got.push(e), 20);
    try {
      assert.deepEqual(
        got.map((e) => e.line),
        ['old-2'],
      );
      // Enough lines to rotate 3 times between two polls: the middle generation must not be lost.
      for (let i = 0; i < 12; i++)
        s.append('shop-web-1', { t: 10 + i, stream: 'stdout', line: `new-${i}` });
      s.append('shop-db-1', { t: 30, stream: 'stdout', line: 'db-new' }); // filtered out
      s.append('shop-web-2', { t: 40, stream: 'stderr', line: 'second replica' });
      await until(() => got.some((e) => e.name === 'shop-web-2'));
      await until(() => got.filter((e) => e.line.startsWith('new-')).length === 12);
      assert.ok(existsSync(join(s.dir, 'shop-web-1.log.3')), 'the test must rotate 3 times');
      assert.deepEqual(
        got.filter((e) => e.line.startsWith('new-')).map((e) => e.line),
        Array.from({ length: 12 }, (_, i) => `new-${i}`),
      );
      assert.equal(
        got.some((e) => e.service === 'db'),
        false,
      );
      assert.equal(got.find((e) => e.name === 'shop-web-2')?.stream, 'stderr');
    } finally {
      f.close();
      s.close();
    }
  });
});
