// The dashboard in a real browser (Debian's Chromium, driven by playwright-core): it refuses
// requests without the token, shows the replicas live, follows a scale and a crash without a
// reload, and its Scale button changes the stack through the control API.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freePort, sandbox, waitFor, type Sandbox } from '../helpers/e2e.ts';
import { tempDir } from '../helpers/tmp.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

const app = `
const http = require('node:http');
http.createServer((q, r) => r.end('web-' + process.env.HERD_REPLICA))
  .listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`;

function makeBox(port: number, dashboard: number): Sandbox {
  const root = tempDir('e2e-dash');
  const dir = join(root, 'dash');
  mkdirSync(dir);
  writeFileSync(join(dir, 'app.js'), app);
  writeFileSync(
    join(dir, 'compose.yaml'),
    `name: dash
x-herd:
  dashboard: { listen: "127.0.0.1:${dashboard}" }
services:
  web:
    command: ["node", "app.js"]
    ports: ["127.0.0.1:${port}:5000"]
    scale: 3
    restart: always
`,
  );
  return sandbox(root, dir);
}

async function launch(): Promise<Browser> {
  // A test that needs Chromium fails without it: .ci/run installs it (scripts/ensure-test-deps.sh).
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

function statusOf(port: number, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The replica names the page shows in its tables. */
const shown = (page: Page) => page.locator('td.name').allTextContents();

test('the dashboard: token, live replicas, a scale, a crash and an action, in Chromium', async () => {
  const port = await freePort();
  const dashPort = await freePort();
  const box = makeBox(port, dashPort);
  const browser = await launch();
  try {
    box.ok(['up', '-d', '--wait', '--wait-timeout', '40']);
    const base = `http://127.0.0.1:${dashPort}`;

    // Nothing without the token; a wrong one neither.
    assert.equal((await fetch(`${base}/`)).status, 401);
    assert.equal((await fetch(`${base}/api/state`)).status, 401);
    assert.equal((await fetch(`${base}/?token=wrong`, { redirect: 'manual' })).status, 401);
    // Asynchronously: a blocked event loop would let the server close fetch's idle keep-alive
    // socket unnoticed, and the next fetch would fail on it.
    const printed = await box.run(['dashboard', '--url']);
    assert.equal(printed.status, 0, printed.stderr);
    const url = printed.stdout.trim();
    assert.match(url, new RegExp(`^${base}/\\?token=[\\w-]{20,}$`));
    const token = new URL(url).searchParams.get('token')!;

    // The token becomes an HttpOnly cookie and leaves the address.
    const login = await fetch(url, { redirect: 'manual' });
    assert.equal(login.status, 302);
    assert.equal(login.headers.get('location'), '/');
    assert.match(login.headers.get('set-cookie') ?? '', /HttpOnly; SameSite=Strict/);

    // Actions from another origin are refused even with the cookie (no CSRF).
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    const forged = await fetch(`${base}/api/scale`, {
      method: 'POST',
      headers: { cookie, origin: 'http://evil.example', 'content-type': 'application/json' },
      body: JSON.stringify({ web: 0 }),
    });
    assert.equal(forged.status, 403);
    // A DNS-rebound name is not this dashboard (fetch cannot set Host; node:http can).
    const rebound = await statusOf(dashPort, '/api/state', {
      authorization: `Bearer ${token}`,
      host: `evil.example:${dashPort}`,
    });
    assert.equal(rebound, 421);

    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(url);
    assert.equal(new URL(page.url()).search, '', 'the token is dropped from the address');
    await page.waitForFunction(() => document.querySelectorAll('td.name').length === 3);
    assert.deepEqual((await shown(page)).sort(), ['dash-web-1', 'dash-web-2', 'dash-web-3']);

    // A scale from the CLI shows up without a reload.
    assert.equal((await box.run(['scale', 'web=4'])).status, 0);
    await page.waitForFunction(
      () => [...document.querySelectorAll('td.name')].some((td) => td.textContent === 'dash-web-4'),
      undefined,
      { timeout: 20_000 },
    );
    await page.waitForSelector('.events li:has-text("web scaled 3 → 4")');

    // A crash: the replica's restart count goes up on the page, and the exit is in the events.
    const victim = (await box.psNow()).find((r) => r.Name === 'dash-web-2')!;
    process.kill(victim.Pid!, 'SIGKILL');
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll('tr')].some(
          (tr) =>
            tr.querySelector('td.name')?.textContent === 'dash-web-2' &&
            tr.children[2]?.textContent === '1',
        ),
      undefined,
      { timeout: 20_000 },
    );
    await page.waitForSelector('.events li:has-text("dash-web-2"):has-text("(SIGKILL)")');

    // The Scale button: the stack goes to 2, as `herd ps` sees it.
    await page.fill('input[aria-label="replicas of web"]', '2');
    await page.click('button:has-text("Scale")');
    await waitFor(
      'herd ps to show 2 running web replicas after the dashboard scaled to 2',
      async () => (await box.psNow()).filter((r) => r.State === 'running').length === 2,
      20_000,
    );
    await page.waitForFunction(() => document.querySelectorAll('td.name').length === 2, undefined, {
      timeout: 20_000,
    });

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png') });
    assert.deepEqual(problems, [], 'no errors in the browser console');

    // `--open` starts the browser $BROWSER names, with the URL and its token.
    const opened = join(box.dir, 'opened.txt');
    const browserScript = join(box.dir, 'browser.sh');
    writeFileSync(browserScript, `#!/bin/sh\necho "$1" > ${opened}\n`, { mode: 0o755 });
    box.env.BROWSER = browserScript;
    assert.equal((await box.run(['dashboard', '--open'])).status, 0);
    await waitFor(
      'the browser started by herd dashboard --open to get the URL',
      async () => existsSync(opened) && readFileSync(opened, 'utf8').trim() === url,
      10_000,
    );

    // A new address in the file moves the dashboard there on the next `herd up` (same token).
    const moved = await freePort();
    const file = join(box.dir, 'compose.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace(`:${dashPort}"`, `:${moved}"`));
    box.ok(['up', '-d', '--wait', '--wait-timeout', '40']);
    const movedUrl = (await box.run(['dashboard', '--url'])).stdout.trim();
    assert.equal(movedUrl, `http://127.0.0.1:${moved}/?token=${token}`);
    assert.equal((await fetch(`http://127.0.0.1:${moved}/`)).status, 401);
    assert.equal((await fetch(movedUrl, { redirect: 'manual' })).status, 302);
    await assert.rejects(fetch(`${base}/`), 'the old address is closed');
  } finally {
    await browser.close();
    box.cleanup();
  }
});

test('`herd dashboard` without x-herd.dashboard says how to add one', async () => {
  const root = tempDir('e2e-dash-none');
  const dir = join(root, 'nodash');
  mkdirSync(dir);
  writeFileSync(join(dir, 'compose.yaml'), 'services:\n  w: { command: ["sleep", "60"] }\n');
  const box = sandbox(root, dir);
  try {
    box.ok(['up', '-d']);
    const r = box.herd(['dashboard']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /has no dashboard; add `x-herd: \{ dashboard:/);
    assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/, 'no stack trace');
  } finally {
    box.cleanup();
  }
});
