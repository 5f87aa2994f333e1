import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { probeHealthWatch, type HealthWatch } from '../../src/engine/health-watch.ts';
import type { ReplicaSpec } from '../../src/runtime/types.ts';
import { realClock } from '../../src/util/clock.ts';
import { tempDir } from '../helpers/tmp.ts';

const dir = realpathSync(tempDir('health-watch-env'));
const watches: HealthWatch[] = [];
after(() => watches.forEach((w) => w.stop()));

function spec(): ReplicaSpec {
  return {
    project: 'hwenv',
    service: 'web',
    index: 1,
    name: 'hwenv-web-1',
    command: ['true'],
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      PORT: '12345',
      VERSION: 'v1',
      HERD_PROJECT: 'hwenv',
      HERD_SERVICE: 'web',
      HERD_REPLICA: '1',
    },
    cwd: dir,
    stopSignal: 'SIGTERM',
    stopGracePeriodMs: 1000,
  };
}

describe('a process replica’s health probe', () => {
  // A probe is a child of the daemon, like a replica: with the replica's HERD_PROJECT it passed,
  // while it ran, for one more replica of the service (acceptance 11 part 4 saw "3 web
  // replicas" now and then, the third a `sh -c curl …` probe).
  it('runs with the replica’s environment but without the HERD_PROJECT that marks a replica', async () => {
    const file = join(dir, 'probe-environ');
    const status = await new Promise<string>((resolve) => {
      const watch = probeHealthWatch({
        check: {
          // What a /proc scanner sees: the environment the probe process was started with.
          test: { kind: 'shell', command: `tr '\\0' '\\n' </proc/$$/environ >${file}` },
          intervalMs: 100,
          timeoutMs: 5000,
          retries: 1,
          startPeriodMs: 0,
          startIntervalMs: 100,
        },
        spec: spec(),
        clock: realClock,
        startedAt: Date.now(),
        onChange: resolve,
      });
      watches.push(watch);
    });
    assert.equal(status, 'healthy');
    const env = readFileSync(file, 'utf8').split('\n');
    for (const kept of ['PORT=12345', 'VERSION=v1', 'HERD_SERVICE=web', 'HERD_REPLICA=1']) {
      assert.ok(env.includes(kept), `${kept} missing from the probe's environment: ${env}`);
    }
    const marker = env.filter((l) => l.startsWith('HERD_PROJECT='));
    assert.deepEqual(marker, [], 'the probe carries the replica marker HERD_PROJECT');
  });
});
