import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/util/clock.ts';
import type { Healthcheck } from '../../src/compose/model.ts';
import { HealthMonitor } from '../../src/health/monitor.ts';
import type { ProbeResult } from '../../src/health/probe.ts';
import { advance, scriptedRunner, type ScriptedOutcome } from '../helpers/health-script.ts';

const T0 = 1_000_000;

function check(overrides: Partial<Healthcheck> = {}): Healthcheck {
  return {
    test: { kind: 'exec', argv: ['true'] },
    intervalMs: 1000,
    timeoutMs: 500,
    retries: 3,
    startPeriodMs: 0,
    startIntervalMs: 200,
    ...overrides,
  };
}

function setup(hc: Healthcheck, script: ScriptedOutcome[], startedAt?: number) {
  const clock = new FakeClock(T0);
  const runner = scriptedRunner(clock, script);
  const changes: { status: string; at: number; last: ProbeResult }[] = [];
  const monitor = new HealthMonitor(hc, {
    clock,
    run: runner.run,
    onChange: (status, last) => changes.push({ status, at: clock.now(), last }),
    startedAt,
  });
  return { clock, runner, changes, monitor };
}

const OK: ScriptedOutcome = { exitCode: 0 };
const FAIL: ScriptedOutcome = { exitCode: 1, output: 'nope' };

describe('HealthMonitor timing (Compose/dockerd semantics)', () => {
  it('starts as starting and runs the first probe one interval after start', async () => {
    const { clock, runner, monitor } = setup(check({ intervalMs: 1000 }), [OK]);
    assert.equal(monitor.status, 'starting');
    monitor.start();
    await advance(clock, 995);
    assert.deepEqual(runner.calls, []);
    await advance(clock, 5);
    assert.deepEqual(runner.calls, [T0 + 1000]);
    assert.equal(monitor.status, 'healthy');
    monitor.stop();
  });

  it('measures the start period from the given startedAt', async () => {
    const hc = check({ startPeriodMs: 1000, startIntervalMs: 200, retries: 1 });
    // The replica started 800 ms before the monitor: only 200 ms of start period are left.
    const { clock, runner, monitor } = setup(hc, [FAIL], T0 - 800);
    monitor.start();
    await advance(clock, 200);
    assert.deepEqual(runner.calls, [T0 + 200]);
    assert.equal(monitor.failingStreak, 1);
    assert.equal(monitor.status, 'unhealthy');
    monitor.stop();
  });

  it('probes every start_interval during the start period while starting', async () => {
    const hc = check({ intervalMs: 1000, startPeriodMs: 1000, startIntervalMs: 200 });
    const { clock, runner, monitor } = setup(hc, [FAIL]);
    monitor.start();
    await advance(clock, 1000);
    assert.deepEqual(
      runner.calls,
      [200, 400, 600, 800, 1000].map((t) => T0 + t),
    );
    // Once the start period is over, probes fall back to the normal interval.
    await advance(clock, 2000);
    assert.deepEqual(runner.calls.slice(5), [T0 + 2000, T0 + 3000]);
    monitor.stop();
  });

  it('ignores failures inside the start period, then counts them', async () => {
    const hc = check({ intervalMs: 1000, startPeriodMs: 1000, startIntervalMs: 200, retries: 2 });
    const { clock, runner, changes, monitor } = setup(hc, [FAIL]);
    monitor.start();
    await advance(clock, 995);
    // Probes at 200..800 all failed and none counted.
    assert.equal(runner.calls.length, 4);
    assert.equal(monitor.status, 'starting');
    assert.equal(monitor.failingStreak, 0);
    await advance(clock, 5); // probe at 1000: the start period is over (started + 1000)
    assert.equal(monitor.failingStreak, 1);
    assert.equal(monitor.status, 'starting');
    await advance(clock, 1000); // probe at 2000: second counted failure = retries
    assert.equal(monitor.failingStreak, 2);
    assert.equal(monitor.status, 'unhealthy');
    assert.deepEqual(
      changes.map((c) => [c.status, c.at]),
      [['unhealthy', T0 + 2000]],
    );
    monitor.stop();
  });

  it('turns healthy on a success inside the start period and leaves start_interval', async () => {
    const hc = check({ intervalMs: 1000, startPeriodMs: 5000, startIntervalMs: 200 });
    const { clock, runner, changes, monitor } = setup(hc, [FAIL, FAIL, OK]);
    monitor.start();
    await advance(clock, 600);
    assert.equal(monitor.status, 'healthy');
    assert.deepEqual(
      changes.map((c) => [c.status, c.at, c.last.exitCode]),
      [['healthy', T0 + 600, 0]],
    );
    // Healthy: the next probe is one full interval later, not start_interval.
    await advance(clock, 1000);
    assert.deepEqual(runner.calls, [T0 + 200, T0 + 400, T0 + 600, T0 + 1600]);
    monitor.stop();
  });

  it('counts failures inside the start period once the replica was healthy', async () => {
    const hc = check({ intervalMs: 1000, startPeriodMs: 10_000, startIntervalMs: 200, retries: 2 });
    const { clock, monitor } = setup(hc, [OK, FAIL]);
    monitor.start();
    await advance(clock, 200);
    assert.equal(monitor.status, 'healthy');
    await advance(clock, 1000); // t=1200, inside the start period, but no longer 'starting'
    assert.equal(monitor.failingStreak, 1);
    await advance(clock, 1000);
    assert.equal(monitor.status, 'unhealthy');
    monitor.stop();
  });

  it('turns unhealthy after `retries` consecutive failures, reporting only the transition', async () => {
    const { clock, changes, monitor } = setup(check({ intervalMs: 1000, retries: 3 }), [FAIL]);
    monitor.start();
    await advance(clock, 2000);
    assert.equal(monitor.status, 'starting');
    assert.equal(monitor.failingStreak, 2);
    await advance(clock, 1000);
    assert.equal(monitor.status, 'unhealthy');
    await advance(clock, 3000); // more failures: no new onChange
    assert.equal(monitor.failingStreak, 6);
    assert.deepEqual(
      changes.map((c) => [c.status, c.at, c.last.output]),
      [['unhealthy', T0 + 3000, 'nope']],
    );
    monitor.stop();
  });

  it('a success resets the failing streak and turns an unhealthy replica healthy', async () => {
    const script = [OK, FAIL, FAIL, OK, FAIL, FAIL, FAIL, OK];
    const { clock, changes, monitor } = setup(check({ intervalMs: 1000, retries: 3 }), script);
    monitor.start();
    await advance(clock, 3000);
    assert.equal(monitor.status, 'healthy');
    assert.equal(monitor.failingStreak, 2);
    await advance(clock, 1000); // success at 4000
    assert.equal(monitor.failingStreak, 0);
    assert.equal(monitor.status, 'healthy');
    await advance(clock, 3000); // three failures: 5000, 6000, 7000
    assert.equal(monitor.status, 'unhealthy');
    await advance(clock, 1000); // success at 8000
    assert.equal(monitor.status, 'healthy');
    assert.equal(monitor.failingStreak, 0);
    assert.deepEqual(
      changes.map((c) => [c.status, c.at]),
      [
        ['healthy', T0 + 1000],
        ['unhealthy', T0 + 7000],
        ['healthy', T0 + 8000],
      ],
    );
    monitor.stop();
  });

  it('counts a probe that runs past its timeout as a failure and aborts it', async () => {
    const hc = check({ intervalMs: 1000, timeoutMs: 300, retries: 1 });
    const { clock, runner, changes, monitor } = setup(hc, [{ exitCode: 0, durationMs: Infinity }]);
    monitor.start();
    await advance(clock, 1295);
    assert.equal(monitor.status, 'starting');
    assert.equal(runner.signals[0]?.aborted, false);
    await advance(clock, 5);
    assert.equal(runner.signals[0]?.aborted, true);
    assert.equal(monitor.status, 'unhealthy');
    const last = monitor.log.at(-1);
    assert.equal(last?.exitCode, -1);
    assert.match(last?.output ?? '', /exceeded timeout \(300ms\)/);
    assert.equal(changes.length, 1);
    // The next probe is one interval after the timed-out one ended.
    await advance(clock, 1000);
    assert.deepEqual(runner.calls, [T0 + 1000, T0 + 2300]);
    monitor.stop();
  });

  it('never overlaps probes: the next is scheduled after the previous one finished', async () => {
    const hc = check({ intervalMs: 1000, timeoutMs: 5000 });
    const { clock, runner, monitor } = setup(hc, [{ exitCode: 0, durationMs: 1500 }]);
    monitor.start();
    await advance(clock, 1000);
    assert.equal(monitor.probing, true);
    await advance(clock, 5000);
    // Calls at 1000, (1000+1500)+1000 = 3500, 3500+1500+1000 = 6000.
    assert.deepEqual(runner.calls, [T0 + 1000, T0 + 3500, T0 + 6000]);
    monitor.stop();
  });

  it('stop() cancels the pending probe', async () => {
    const { clock, runner, monitor } = setup(check({ intervalMs: 1000 }), [OK]);
    monitor.start();
    await advance(clock, 500);
    monitor.stop();
    assert.equal(clock.pending(), 0);
    await advance(clock, 5000);
    assert.deepEqual(runner.calls, []);
    monitor.start(); // a stopped monitor stays stopped
    await advance(clock, 2000);
    assert.deepEqual(runner.calls, []);
  });

  it('stop() aborts a probe in flight and ignores its result', async () => {
    const hc = check({ intervalMs: 1000, timeoutMs: 5000 });
    const { clock, runner, changes, monitor } = setup(hc, [{ exitCode: 0, durationMs: 1000 }]);
    monitor.start();
    await advance(clock, 1500);
    assert.equal(monitor.probing, true);
    monitor.stop();
    assert.equal(runner.signals[0]?.aborted, true);
    await advance(clock, 5000);
    assert.equal(monitor.status, 'starting');
    assert.deepEqual(monitor.log, []);
    assert.deepEqual(changes, []);
    assert.equal(runner.calls.length, 1);
    assert.equal(clock.pending(), 0);
  });

  it('keeps the last 5 results with output capped at 4 KiB', async () => {
    const big = 'x'.repeat(10_000);
    const script: ScriptedOutcome[] = [0, 1, 2, 3, 4, 5, 6].map((n) => ({
      exitCode: n === 0 ? 0 : 1,
      output: n === 6 ? big : `run ${n}`,
    }));
    const { clock, monitor } = setup(check({ intervalMs: 1000, retries: 10 }), script);
    monitor.start();
    await advance(clock, 7000);
    const log = monitor.log;
    assert.equal(log.length, 5);
    assert.deepEqual(
      log.slice(0, 4).map((r) => r.output),
      ['run 2', 'run 3', 'run 4', 'run 5'],
    );
    assert.equal(log[4]?.output, `${'x'.repeat(4096)}...`);
    monitor.stop();
  });

  it('treats a runner that throws or rejects as a failed probe', async () => {
    const clock = new FakeClock(T0);
    let calls = 0;
    const monitor = new HealthMonitor(check({ intervalMs: 1000, retries: 2 }), {
      clock,
      run: () => {
        calls += 1;
        if (calls === 1) throw new Error('spawn exploded');
        return Promise.reject(new Error('probe rejected'));
      },
      onChange: () => {},
    });
    monitor.start();
    await advance(clock, 2000);
    assert.equal(monitor.status, 'unhealthy');
    assert.deepEqual(
      monitor.log.map((r) => [r.exitCode, r.output]),
      [
        [-1, 'health probe failed to run: spawn exploded'],
        [-1, 'health probe failed to run: probe rejected'],
      ],
    );
    monitor.stop();
  });

  it('uses dockerd defaults for zero values (interval 30 s, retries 3)', async () => {
    const hc = check({ intervalMs: 0, timeoutMs: 0, retries: 0, startIntervalMs: 0 });
    const { clock, runner, monitor } = setup(hc, [FAIL]);
    monitor.start();
    await advance(clock, 90_000, 1000);
    assert.deepEqual(runner.calls, [T0 + 30_000, T0 + 60_000, T0 + 90_000]);
    assert.equal(monitor.status, 'unhealthy');
    monitor.stop();
  });
});
