// `herd up --build` against a running daemon: the daemon keeps the images it built at start, so
// instead of silently ignoring --build, up says to `herd down` first and changes nothing.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { sandbox } from '../helpers/e2e.ts';
import { tempDir } from '../helpers/tmp.ts';

test('up --build while the daemon runs names the services and says to down first', () => {
  const root = tempDir('e2e-build-running');
  const dir = join(root, 'app');
  mkdirSync(join(dir, 'api'), { recursive: true });
  writeFileSync(join(dir, 'api', 'Dockerfile'), 'FROM scratch\n');
  const compose = (extra: string) => `name: buildrunning
services:
  worker:
    command: ["sleep", "60"]
${extra}`;
  writeFileSync(join(dir, 'compose.yaml'), compose(''));
  const box = sandbox(root, dir);
  try {
    box.ok(['up', '-d']);
    // The file now has a service to build; the daemon started without it.
    writeFileSync(join(dir, 'compose.yaml'), compose('  api:\n    build: ./api\n'));
    const r = box.herd(['up', '-d', '--build']);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /--build: the daemon of project buildrunning is already running/);
    assert.match(r.stderr, /\(api\); run `herd down`, then `herd up --build`/);
    assert.deepEqual(
      box.ps().map((row) => row.Service),
      ['worker'],
      'nothing was applied',
    );
  } finally {
    box.cleanup();
  }
});
