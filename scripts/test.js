#!/usr/bin/env node
// Runs the test suites with Node's own test runner (TypeScript loaded through tsx), then checks
// that the run left nothing behind: no file in its temp dir, no new herd state, no process of its
// own still running, no container. Anything left, or any test skipped, fails the run: a test that
// cannot run here (a package CI provides is missing) is a failure, not a skip.
// Usage: node scripts/test.js [unit|integration|e2e|<file.test.ts> ...]   (default: all suites)
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
} from 'node:fs';
import { constants, homedir, tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';

const SUITES = ['unit', 'integration', 'e2e'];
const started = Date.now();
const args = process.argv.length > 2 ? process.argv.slice(2) : SUITES;
const unknown = args.filter((a) => !SUITES.includes(a) && !a.endsWith('.test.ts'));
if (unknown.length > 0) {
  fail(`unknown suite ${unknown.join(', ')} (the suites: ${SUITES.join(', ')}, or test files)`);
}

if (process.env.HERD_SKIP_DEPS !== '1') {
  const deps = spawnSync('bash', ['scripts/ensure-test-deps.sh'], { stdio: 'inherit' });
  if (deps.status !== 0) fail('the test dependencies are missing (see above)');
}

const files = args.flatMap((arg) => {
  if (!SUITES.includes(arg)) {
    if (!existsSync(arg)) fail(`no test file ${arg}`);
    return [arg];
  }
  const dir = join('test', arg);
  const found = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.test.ts')) : [];
  if (found.length === 0) fail(`no test files in ${dir}`);
  return found.sort().map((f) => join(dir, f));
});
const what = args.length > 3 ? `${files.length} test files` : args.join('+');

// The run's own TMPDIR: tests' temp dirs, tsx's compile cache (shared by the hundreds of herd
// processes the tests start) and the user caches go there; the caches are removed at the end,
// anything else is a leak.
const outerTmp = tmpdir();
const runTmp = mkdtempSync(join(outerTmp, 'herd-run-'));
// Others may pass through, as through /tmp: PostgreSQL and replicas run as other users.
chmodSync(runTmp, 0o711);
const marker = `${process.pid}-${randomBytes(6).toString('hex')}`;
const stateDirs = watchedStateDirs();
const stateBefore = new Map(stateDirs.map((d) => [d, entries(d)]));
const env = {
  ...process.env,
  TMPDIR: runTmp,
  // Caches the processes keep for the user (herd's project names, Chromium's) stay in the run's
  // TMPDIR and go with it.
  XDG_CACHE_HOME: join(runTmp, 'xdg-cache'),
  // Every process the tests start inherits it: what still carries it at the end was left behind.
  HERD_TEST_RUN: marker,
  // The test Docker engine is shared by concurrent runs, so it lives outside the run's TMPDIR.
  HERD_TEST_DOCKERD_DIR: process.env.HERD_TEST_DOCKERD_DIR ?? join(outerTmp, 'herd-test-dockerd'),
  HERD_TEST_RUNNER_PID: String(process.pid),
  ...(process.stdout.isTTY ? { FORCE_COLOR: '1' } : {}),
};

// Stopped from outside (Ctrl-C, `timeout`): the tests cannot clean up after themselves any more,
// so the run does, and says so.
let interrupted;
let testRunner;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    interrupted ??= signal;
    testRunner?.kill(signal);
    // A runner that does not stop at once is killed; its test files then count as left behind.
    setTimeout(() => testRunner?.kill('SIGKILL'), 2000).unref();
  });
}

const status = await runTests();
if (interrupted) {
  await releaseDockerd();
  await leftoverProcesses(0);
  rmSync(runTmp, { recursive: true, force: true });
  console.log(`test.js: ${what}: ${status.summary}; interrupted by ${interrupted}, cleaned up`);
  process.exit(128 + constants.signals[interrupted]);
}
const problems = [...(await leftovers()), ...status.problems];
const secs = ((Date.now() - started) / 1000).toFixed(0);
for (const p of problems) console.log(`test.js: ${p}`);
const verdict = problems.length > 0 ? 'FAILED' : 'passed, nothing left behind';
console.log(`test.js: ${what}: ${status.summary}; ${verdict} in ${secs} s`);
process.exit(problems.length > 0 ? 1 : 0);

function fail(why) {
  console.error(`test.js: ${why}`);
  process.exit(1);
}

/** Runs node --test, passing its output through and reading its summary (`ℹ pass 12`) from it. */
function runTests() {
  const concurrency = process.env.HERD_TEST_CONCURRENCY ?? '2';
  const args = ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`];
  const child = (testRunner = spawn(process.execPath, [...args, '--test-reporter=spec', ...files], {
    env,
    stdio: ['inherit', 'pipe', 'inherit'],
  }));
  const counts = {};
  let partial = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    const lines = (partial + chunk).split('\n');
    partial = lines.pop();
    for (const line of lines) {
      const m = /^ℹ (\w+) ([\d.]+)\s*$/.exec(stripVTControlCharacters(line));
      if (m) counts[m[1]] = Number(m[2]);
    }
  });
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      const problems = [];
      if (code !== 0) problems.push(`the test runner exited with ${code ?? signal}`);
      if (counts.tests === undefined) problems.push('the test runner printed no summary');
      for (const what of ['skipped', 'todo']) {
        if (counts[what] > 0) problems.push(`${counts[what]} tests ${what}: every test must run`);
      }
      const summary = ['tests', 'pass', 'fail', 'cancelled', 'skipped', 'todo']
        .map((k) => `${counts[k] ?? '?'} ${k}`)
        .join(', ');
      resolve({ problems, summary });
    });
  });
}

async function leftovers() {
  const problems = [];
  // The engine is released before looking for processes: its containers count as left behind.
  if (!(await releaseDockerd())) problems.push('the test Docker engine was not left clean');
  problems.push(...(await leftoverProcesses(5000)));
  for (const entry of readdirSync(runTmp)) {
    if (/^tsx-|^xdg-cache$/.test(entry))
      rmSync(join(runTmp, entry), { recursive: true, force: true });
  }
  const files = readdirSync(runTmp);
  if (files.length > 0) problems.push(`left in ${runTmp}: ${files.join(' ')}`);
  else rmdirSync(runTmp);
  for (const dir of stateDirs) {
    const added = entries(dir).filter((e) => !stateBefore.get(dir).includes(e));
    if (added.length > 0) problems.push(`written to the herd state dir ${dir}: ${added.join(' ')}`);
  }
  return problems;
}

/** Lets go of the run's hold on the test Docker engine, if it took one (the last user stops it);
 * false when containers were left in it. */
async function releaseDockerd() {
  if (!existsSync(join(env.HERD_TEST_DOCKERD_DIR, 'users', String(process.pid)))) return true;
  const release = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/dockerd-release.ts'], {
    env,
    stdio: 'inherit',
  });
  return new Promise((resolve) => release.on('close', (code) => resolve(code === 0)));
}

/** Processes started by this run that still run after `graceMs`; they are killed. */
async function leftoverProcesses(graceMs) {
  if (!existsSync('/proc/self/environ')) return [];
  let pids = markedProcesses();
  for (let waited = 0; pids.length > 0 && waited < graceMs; waited += 250) {
    await new Promise((r) => setTimeout(r, 250));
    pids = markedProcesses();
  }
  return pids.map((pid) => {
    const cmd = readProc(pid, 'cmdline').replaceAll('\0', ' ').trim().slice(0, 120);
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
    return `process ${pid} left running (killed): ${cmd}`;
  });
}

function markedProcesses() {
  const mark = `HERD_TEST_RUN=${marker}`;
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)
    .filter((p) => readProc(p, 'environ').split('\0').includes(mark))
    .map(Number);
}

function readProc(pid, file) {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'latin1');
  } catch {
    return ''; // gone, or a zombie
  }
}

/** Where herd keeps state when the tests forget to say where: the run must add nothing there. */
function watchedStateDirs() {
  const xdg = process.env.XDG_STATE_HOME;
  const base =
    xdg && isAbsolute(xdg) ? xdg : join(process.env.HOME || homedir(), '.local', 'state');
  return [join(base, 'herd'), ...(process.env.HERD_STATE_DIR ? [process.env.HERD_STATE_DIR] : [])];
}

function entries(dir) {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
