import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextBackoff, formatDelay } from '../../src/engine/backoff.ts';

test('exponential from 100 ms, doubling, capped at 60 s', () => {
  const seq: number[] = [];
  let prev: number | undefined;
  for (let i = 0; i < 14; i++) {
    prev = nextBackoff({ previousMs: prev, uptimeMs: 10 });
    seq.push(prev);
  }
  assert.deepEqual(seq.slice(0, 10), [100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200]);
  assert.deepEqual(seq.slice(10), [60000, 60000, 60000, 60000]);
});

test('resets to the base once the replica stayed up 10 s', () => {
  assert.equal(nextBackoff({ previousMs: 6400, uptimeMs: 9999 }), 12800);
  assert.equal(nextBackoff({ previousMs: 6400, uptimeMs: 10_000 }), 100);
});

test('restart_policy.delay sets the base', () => {
  assert.equal(nextBackoff({ uptimeMs: 0, baseMs: 5000 }), 5000);
  assert.equal(nextBackoff({ previousMs: 5000, uptimeMs: 0, baseMs: 5000 }), 10000);
  assert.equal(nextBackoff({ previousMs: 40000, uptimeMs: 0, baseMs: 5000 }), 60000);
  assert.equal(nextBackoff({ previousMs: 0, uptimeMs: 0, baseMs: 0 }), 0);
  // A base above the cap is honoured as is.
  assert.equal(nextBackoff({ previousMs: 90000, uptimeMs: 0, baseMs: 90000 }), 90000);
});

test('formats delays for notices', () => {
  assert.equal(formatDelay(100), '100ms');
  assert.equal(formatDelay(1600), '1.6s');
  assert.equal(formatDelay(60000), '60s');
});
