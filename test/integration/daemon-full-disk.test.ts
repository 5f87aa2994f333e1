// A full disk under the state dir, on a real 2 MiB tmpfs (the tests run as root): the state file
// and the logs fail to write, the daemon's parts report it once and keep going, and resume when
// space comes back.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EventEmitter } from 'node:events';
import type { EngineControl } from '../../src/daemon/control.ts';
import { DefinitionRecorder, readDefinitions } from '../../src/daemon/definitions-file.ts';
import type { DefinitionRecord } from '../../src/engine/definitions.ts';
import type { EngineEvent } from '../../src/engine/events.ts';
import { StateRecorder } from '../../src/daemon/recorder.ts';
import { readState } from '../../src/daemon/state-file.ts';
import { DaemonWarnings } from '../../src/daemon/warnings.ts';
import { LogStore, type LogWriteTrouble } from '../../src/logs/store.ts';
import { MonotonicStore } from '../../src/metrics/monotonic.ts';
import { MetricsSampler } from '../../src/metrics/sampler.ts';
import { isHerdError } from '../../src/util/errors.ts';
import { makeService } from '../helpers/backends.ts';
import { tempDir } from '../helpers/tmp.ts';

let mnt = '';

/** Fills the tmpfs: writes until ENOSPC. */
function fill(): void {
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (let i = 0; i < 1000; i++) writeFileSync(join(mnt, `fill${i}`), chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    return;
  }
  throw new Error('the 2 MiB tmpfs never filled up');
}

function unfill(): void {
  for (let i = 0; i < 1000; i++) rmSync(join(mnt, `fill${i}`), { force: true });
}

describe('a full disk under the state dir', () => {
  before(() => {
    mnt = tempDir('fulldisk');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt]);
  });
  after(() => {
    execFileSync('umount', [mnt]);
  });

  it('the recorder keeps the state in memory, reports, retries and recovers', async () => {
    const dir = join(mnt, 'rec');
    mkdirSync(dir, { mode: 0o700 });
    const file = join(dir, 'state.json');
    const warnings = new DaemonWarnings();
    const notices: string[] = [];
    warnings.on((e: EngineEvent) => e.type === 'notice' && notices.push(e.message));
    const rec = new StateRecorder(file, 'shop', { warnings });
    try {
      fill();
      assert.throws(
        () => rec.setScale('web', 3),
        (err: unknown) =>
          isHerdError(err, 'STATE') &&
          /scale of web set to 3, but the daemon could not record it: no space left on device \(ENOSPC\) writing .*rec\/state\.json; the stack keeps running/.test(
            err.message,
          ),
      );
      assert.equal(rec.current.scale.web, 3, 'in memory the change holds');
      assert.equal(readState(file)?.scale.web, undefined, 'the file still has the last good state');
      assert.equal(warnings.list().length, 1);
      assert.match(warnings.list()[0]!, /cannot write the state file: .*ENOSPC/);
      // A second failure is not announced again.
      assert.throws(() => rec.setStopped(['web'], true), /ENOSPC/);
      assert.equal(notices.length, 1);
      unfill();
      // The retry (after 1 s, then 2 s) writes what memory holds.
      const end = Date.now() + 8000;
      while (readState(file)?.scale.web !== 3 && Date.now() < end)
        await new Promise((r) => setTimeout(r, 100));
      assert.equal(readState(file)?.scale.web, 3);
      assert.deepEqual(readState(file)?.stopped, ['web']);
      assert.deepEqual(warnings.list(), []);
      assert.match(notices[1]!, /state file .* is written again/);
    } finally {
      rec.close();
      unfill();
    }
  });

  it('the record of definitions: an update on a full disk is reported and retried, not thrown', async () => {
    const dir = join(mnt, 'defs');
    mkdirSync(dir, { mode: 0o700 });
    const file = join(dir, 'definitions.json');
    const warnings = new DaemonWarnings();
    const records: DefinitionRecord[] = [];
    // The engine's side of the recorder: its event stream and its records.
    const engine = Object.assign(new EventEmitter(), { definitionRecords: () => records });
    const rec = new DefinitionRecorder(file, 'shop', engine as unknown as EngineControl, warnings);
    rec.attach();
    const update: EngineEvent = {
      type: 'update',
      at: 1,
      update: { service: 'web', kind: 'update', state: 'completed', startedAt: 0, at: 1 },
    };
    try {
      fill();
      records.push({ service: 'web', live: makeService('web'), requested: 'h1' });
      // EventEmitter.emit would throw what a listener throws: the recorder must not.
      assert.doesNotThrow(() => engine.emit('event', update));
      assert.match(
        warnings.list().join('\n'),
        /cannot write the record of service definitions: no space left on device \(ENOSPC\) writing .*defs\/definitions\.json/,
      );
      unfill();
      const end = Date.now() + 8000;
      while (readDefinitions(file, 'shop').length === 0 && Date.now() < end)
        await new Promise((r) => setTimeout(r, 100));
      assert.equal(readDefinitions(file, 'shop')[0]?.requested, 'h1', 'the retry wrote it');
      assert.deepEqual(warnings.list(), []);
    } finally {
      rec.detach();
      unfill();
    }
  });

  it('the metrics file: samples go on from memory on a full disk, and it is written again after', async () => {
    const dir = join(mnt, 'metrics');
    mkdirSync(dir, { mode: 0o700 });
    const file = join(dir, 'metrics.json');
    const warnings = new DaemonWarnings();
    let requests = 10;
    const sampler = new MetricsSampler(
      {
        traffic: async () => [
          {
            replica: 'p-web-1',
            service: 'web',
            requests,
            errors: 0,
            inFlight: 0,
            connections: 0,
            latencyBuckets: [],
            latencySumMs: 0,
            codes: { '200': requests },
          },
        ],
        engine: {
          project: { services: { web: {} } },
          replicas: () => [],
          on: () => undefined,
          off: () => undefined,
        },
        usage: () => new Map(),
        autoscaled: () => ({}),
      },
      new MonotonicStore(file),
      (err) =>
        err === undefined ? warnings.clear('m', 'written again') : warnings.set('m', String(err)),
    );
    const total = async () =>
      (await sampler.sample())
        .find((f) => f.name === 'herd_http_requests_total')!
        .samples.reduce((sum, x) => sum + x.value, 0);
    try {
      fill();
      assert.equal(await total(), 10, 'a sample on a full disk still answers');
      assert.match(warnings.list().join('\n'), /ENOSPC/);
      requests = 25;
      assert.equal(await total(), 25);
      unfill();
      assert.equal(await total(), 25);
      assert.deepEqual(warnings.list(), []);
      assert.ok(readFileSync(file, 'utf8').includes('"version"'), 'the bases were saved');
    } finally {
      unfill();
    }
  });

  it('log lines that cannot be written are dropped and counted, with one report, then resume', () => {
    const troubles: LogWriteTrouble[] = [];
    const logs = new LogStore(join(mnt, 'logs'), 'shop', {}, (t) => troubles.push(t));
    try {
      logs.append('shop-web-1', { t: 1, stream: 'stdout', line: 'before' });
      fill();
      const big = 'x'.repeat(8 * 1024);
      for (let i = 0; i < 50; i++) logs.append('shop-web-1', { t: 2, stream: 'stdout', line: big });
      assert.ok(logs.dropped > 0, 'lines were dropped');
      assert.equal(troubles.length, 1, 'reported once');
      assert.match(troubles[0]!.error!, /ENOSPC writing .*shop-web-1\.log/);
      unfill();
      logs.append('shop-web-1', { t: 3, stream: 'stdout', line: 'after' });
      assert.equal(troubles.length, 2);
      assert.equal(troubles[1]!.error, undefined, 'writes work again');
      const lines = logs.readReplica('shop-web-1').map((r) => r.line);
      assert.equal(lines[0], 'before');
      assert.equal(lines.at(-1), 'after');
      assert.ok(
        readFileSync(logs.fileOf('shop-web-1'), 'utf8').endsWith('"after"}\n'),
        'the stored file ends with a whole line',
      );
    } finally {
      logs.close();
      unfill();
    }
  });
});
