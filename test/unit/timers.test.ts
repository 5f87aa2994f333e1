// Huge user durations (stop_grace_period: 30d) must mean "much later", never "now".
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MAX_TIMER_MS, ioDeadline, safeDelay } from '../../src/util/timers.ts';
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

/** Sends a line to an echo server in another process, then blocks this event loop (as CPU
 * starvation would) until the echo has answered — it says so in a file — and past both deadlines,
 * and says whether the answer had been read when each deadline ran. */
async function answerSeenAtDeadline() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'herd-timers-'));
  const flag = path.join(dir, 'answered');
  const echo = spawn(
    process.execPath,
    [
      '-e',
      `const s = require('net').createServer((c) => c.on('data', (d) => c.write(d, () =>
        require('fs').writeFileSync(process.argv[1], '')))).listen(0, '127.0.0.1', () =>
        console.log(s.address().port))`,
      flag,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    const [line] = (await once(echo.stdout, 'data')) as [Buffer];
    const sock = net.connect(Number(line.toString()), '127.0.0.1');
    await once(sock, 'connect');
    let answered = false;
    sock.on('data', () => (answered = true));
    const seen = new Promise<{ plain: boolean; io: boolean }>((resolve) => {
      const at: { plain?: boolean; io?: boolean } = {};
      const both = () => at.plain !== undefined && at.io !== undefined && resolve(at as never);
      setTimeout(() => ((at.plain = answered), both()), 20);
      ioDeadline(20, () => ((at.io = answered), both()));
    });
    sock.write('ping');
    const start = Date.now();
    // The stall: the echo answers meanwhile, nobody reads it. Bounded: the echo has 10 s.
    while (!existsSync(flag) || Date.now() - start < 50) {
      assert.ok(Date.now() - start < 10_000, 'the echo server never answered');
    }
    const result = await seen;
    sock.destroy();
    return result;
  } finally {
    echo.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('ioDeadline', () => {
  it('runs after the answer that arrived during a stall was read; a plain timer does not', async () => {
    const { plain, io } = await answerSeenAtDeadline();
    assert.equal(plain, false, 'Node runs due timers before it polls sockets');
    assert.equal(io, true);
  });

  it('fires when nothing arrives, and not once cancelled', async () => {
    let fired = 0;
    ioDeadline(10, () => fired++);
    const cancel = ioDeadline(10, () => (fired += 10));
    cancel();
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(fired, 1);
    cancel();
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
