import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { emptyState, readState, writeState } from '../../src/daemon/state-file.ts';
import { HerdError } from '../../src/util/errors.ts';
import { tempDir } from '../helpers/tmp.ts';

const tmp = () => tempDir('state');

describe('daemon state file', () => {
  it('round-trips and leaves no temp file behind', () => {
    const file = join(tmp(), 'state.json');
    const s = emptyState('shop');
    s.scale.web = 3;
    s.stopped = ['worker'];
    s.replicas = [{ name: 'shop-web-1', service: 'web', pid: 42, startTime: 123 }];
    writeState(file, s);
    assert.deepEqual(readState(file), { ...s, daemonPid: undefined });
    assert.deepEqual(readdirSync(join(file, '..')), ['state.json']);
  });

  it('a missing file reads as no state', () => {
    assert.equal(readState(join(tmp(), 'state.json')), undefined);
  });

  it('a torn temp file from a crashed write never replaces the good file', () => {
    const dir = tmp();
    const file = join(dir, 'state.json');
    const good = emptyState('shop');
    good.scale.web = 2;
    writeState(file, good);
    // What a daemon killed mid-write leaves: a half-written temp file next to the good one.
    writeFileSync(join(dir, '.state.json.999.tmp'), '{"version":1,"project":"sh');
    assert.equal(readState(file)?.scale.web, 2);
    // The next write still replaces the file atomically and whole.
    good.scale.web = 5;
    writeState(file, good);
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).scale.web, 5);
  });

  it('a corrupt file is a clear error naming the file, not a crash', () => {
    const file = join(tmp(), 'state.json');
    writeFileSync(file, '{"version":1,"proj');
    assert.throws(
      () => readState(file),
      (e: unknown) =>
        e instanceof HerdError && e.message.includes(file) && e.message.includes('corrupt'),
    );
    writeFileSync(file, JSON.stringify({ version: 1, project: 'p', scale: { web: -1 } }));
    assert.throws(() => readState(file), /scale of web is not a whole number/);
    writeFileSync(file, JSON.stringify({ version: 1, project: 'p', replicas: [{ name: 'x' }] }));
    assert.throws(() => readState(file), /bad replica record/);
  });
});
