// Huge user durations (stop_grace_period: 30d) must mean "much later", never "now".
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_TIMER_MS, safeDelay } from '../../src/util/timers.ts';
import { realClock } from '../../src/util/clock.ts';
import { MAX_INTERVAL_S, MIN_INTERVAL_S, parseInterval } from '../../src/cli/commands/top.ts';

const DAY = 24 * 3600 * 1000;

describe('safeDelay', () => {
  it('clamps to the longest delay Node honours', () => {
    assert.equal(MAX_TIMER_MS, 2_147_483_647);
    assert.equal(safeDelay(30 * DAY), MAX_TIMER_MS);
    assert.equal(safeDelay(Infinity), MAX_TIMER_MS);
    assert.equal(safeDelay(MAX_TIMER_MS), MAX_TIMER_MS);
    assert.equal(safeDelay(1500), 1500);
    assert.equal(safeDelay(0), 0);
    assert.equal(safeDelay(-5), 0);
    assert.equal(safeDelay(NaN), 0);
  });

  it("the engine's real clock does not fire a 30-day timer at once", async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    let fired = false;
    const t = realClock.setTimeout(() => (fired = true), 30 * DAY);
    const inf = realClock.setTimeout(() => (fired = true), Infinity);
    try {
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(fired, false);
      assert.deepEqual(
        warnings.filter((w) => w.name === 'TimeoutOverflowWarning'),
        [],
      );
    } finally {
      t.cancel();
      inf.cancel();
      process.off('warning', onWarning);
    }
  });
});

describe('herd top --interval', () => {
  it('accepts 0.1 to 3600 seconds', () => {
    assert.equal(parseInterval(String(MIN_INTERVAL_S)), 100);
    assert.equal(parseInterval(String(MAX_INTERVAL_S)), 3_600_000);
  });

  it('rejects an interval that would hammer the daemon or overflow a timer', () => {
    for (const bad of ['1e-9', '0.05', '3601', '1e308'])
      assert.throws(
        () => parseInterval(bad),
        /--interval .*: must be between 0\.1 and 3600 seconds/,
      );
  });
});
