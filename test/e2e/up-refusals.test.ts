// What `herd` refuses before any daemon starts, from the binary: a project with nothing to run, a
// state dir it cannot use, and flags whose values cannot mean anything.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { sandbox, type Sandbox } from '../helpers/e2e.ts';
import { tempDir } from '../helpers/tmp.ts';

const STACK = `
services:
  web:
    command: ["node", "-e", "setInterval(() => {}, 1000)"]
`;

function box(files: Record<string, string>, env: Record<string, string> = {}): Sandbox {
  const root = tempDir('e2e-refuse');
  const dir = join(root, 'refuse');
  mkdirSync(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return sandbox(root, dir, env);
}

test('up refuses a project with no services to run; config still shows it', async () => {
  const b = box({
    'empty.yaml': '',
    'none.yaml': 'services: {}\n',
    'gated.yaml': 'services:\n  web:\n    command: ["true"]\n    profiles: [dev]\n',
  });
  try {
    const runs = await Promise.all([
      b.run(['-f', 'empty.yaml', 'up', '-d']),
      b.run(['-f', 'none.yaml', 'up', '-d']),
      b.run(['-f', 'empty.yaml', 'up']),
      b.run(['-f', 'gated.yaml', 'up', '-d']),
      b.run(['-f', 'empty.yaml', 'config']),
    ]);
    const [empty, none, foreground, gated, config] = runs;
    for (const [r, file] of [
      [empty, 'empty.yaml'],
      [none, 'none.yaml'],
      [foreground, 'empty.yaml'],
    ] as const) {
      assert.equal(r.status, 1, r.stdout + r.stderr);
      assert.equal(
        r.stderr,
        `herd: no services to run in ${file}: add a service under \`services:\`\n`,
      );
    }
    assert.equal(gated!.status, 1);
    assert.match(
      gated!.stderr,
      /^herd: no services to run in gated\.yaml: every service needs a profile that is not enabled \(web: dev\); enable one with --profile/,
    );
    assert.equal(config!.status, 0, config!.stderr);
    assert.match(config!.stdout, /^services: \{\}$/m);
    // Nothing started, nothing left behind.
    assert.equal(existsSync(b.stateDir), false);
  } finally {
    b.cleanup();
  }
});

test('up -d with a socket path over the kernel limit says so, and leaves no socket', () => {
  const root = tempDir('e2e-long');
  // 107 bytes is Linux's limit (104 with the NUL elsewhere): be over both.
  const stateDir = join(root, 's'.repeat(Math.max(1, 110 - root.length)));
  const b = box({ 'compose.yaml': STACK }, { HERD_STATE_DIR: stateDir });
  try {
    const r = b.herd(['up', '-d']);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(
      r.stderr,
      /^herd: the daemon's socket path \S+\/herd\.sock is \d+ bytes long, over the limit of 10[37] bytes .*set HERD_STATE_DIR to a shorter folder/,
    );
    assert.doesNotMatch(r.stderr, /unexpected error|\n\s+at /);
    assert.deepEqual(readdirSync(root), [], 'nothing created');
  } finally {
    b.cleanup();
    rmSync(root, { recursive: true, force: true });
  }
});

test(
  'up -d with a state dir that cannot be made fails at once',
  { skip: !existsSync('/proc/self') },
  () => {
    const b = box({ 'compose.yaml': STACK }, { HERD_STATE_DIR: '/proc/x' });
    try {
      const r = b.herd(['up', '-d'], { timeoutMs: 20_000 });
      assert.equal(r.status, 1, `status ${r.status} (hung?)\n${r.stderr}`);
      assert.equal(
        r.stderr,
        'herd: cannot prepare state dir /proc/x: no such file or directory (ENOENT) at mkdir /proc/x; ' +
          'set HERD_STATE_DIR to a writable folder\n',
      );
    } finally {
      b.cleanup();
    }
  },
);

test('port --index and logs --since values that mean nothing are refused before the daemon', async () => {
  const b = box({ 'compose.yaml': STACK });
  try {
    const [huge, zero, since, far] = await Promise.all([
      b.run(['port', 'web', '5000', '--index', '99999999999999999999']),
      b.run(['port', 'web', '5000', '--index', '0']),
      b.run(['logs', '--since', '9999999999999h']),
      b.run(['logs', '--since', '1' + '0'.repeat(400)]),
    ]);
    for (const r of [huge, zero]) {
      assert.equal(r!.status, 1);
      assert.match(r!.stderr, /^herd: --index \d+: expected a replica number, a whole number ≥ 1/);
    }
    assert.equal(since!.status, 1);
    assert.match(
      since!.stderr,
      /^herd: --since 9999999999999h: that is before 1970-01-01T00:00:00Z.*give a shorter duration or a later time/,
    );
    assert.doesNotMatch(since!.stderr, /negative|≥ 0/);
    assert.equal(far!.status, 1);
    assert.match(far!.stderr, /--since 1000+: out of range/);
  } finally {
    b.cleanup();
  }
});
