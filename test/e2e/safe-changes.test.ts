// Issue 14 through the herd binary: deploy.restart_policy's fixed delay and attempts, and an update
// whose new definition crashes within `monitor`: rolled back with nothing lost at the balancer,
// recorded so a daemon that restarts runs the definition that was live, and `herd rollback`.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { parseCgroupMounts, parseProcCgroup } from '../../src/runtime/process/cgroup-mounts.ts';
import { freePort, pidAlive, sandbox, waitFor, type Sandbox } from '../helpers/e2e.ts';
import { tempDir } from '../helpers/tmp.ts';

function box(tag: string, files: Record<string, string>): Sandbox {
  const root = tempDir(`e2e-${tag}`);
  const dir = join(root, 'app');
  mkdirSync(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return sandbox(root, dir);
}

interface ReplicaEventLine {
  type: string;
  at: number;
  replica?: { name: string; state: string };
}

test('restart_policy {on-failure, delay: 2s, max_attempts: 4}: 5 starts, 2 s from each exit, no 6th', async () => {
  const b = box('restart-policy', {
    'crash.js': `require('fs').appendFileSync('starts', Date.now() + '\\n');
setTimeout(() => process.exit(1), 100);
`,
    'compose.yaml': `services:
  crash:
    command: ["node", "crash.js"]
    deploy:
      restart_policy:
        condition: on-failure
        delay: 2s
        max_attempts: 4
`,
  });
  try {
    b.ok(['up', '-d']);
    // Started once the daemon answers: it may miss the first exit, not the later ones.
    const events = b.spawn(['events', '--json']);
    const starts = () => readFileSync(join(b.dir, 'starts'), 'utf8').trim().split('\n').map(Number);
    await waitFor('the service gave up', () => b.ps().some((r) => r.State === 'exited'), 40_000);
    const fifth = starts()[4];
    assert.ok(fifth !== undefined, `5 starts: ${starts().join(' ')}`);
    await new Promise((r) => setTimeout(r, Math.max(0, fifth + 4000 - Date.now())));
    assert.equal(
      starts().length,
      5,
      `exactly 5 starts (1 + max_attempts 4): ${starts().join(' ')}`,
    );
    const row = b.ps().find((r) => r.Service === 'crash')!;
    assert.equal(row.State, 'exited');
    assert.equal(row.Restarts, 4);
    await events.stop();
    // The delay herd keeps: from each exit (backoff) to the next start it makes. The gaps between
    // the app's own start times add node's start-up, which a loaded machine stretches.
    const lines = events
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as ReplicaEventLine)
      .filter((e) => e.type === 'replica' && e.replica);
    const gaps: number[] = [];
    for (let i = 0; i < lines.length; i++) {
      if (lines[i]!.replica!.state !== 'backoff') continue;
      const next = lines.slice(i + 1).find((e) => e.replica!.state === 'starting');
      if (next) gaps.push(next.at - lines[i]!.at);
    }
    assert.ok(
      gaps.length >= 3 && gaps.length <= 4,
      `the restarts seen: ${JSON.stringify(gaps)} in ${events.output().slice(0, 600)}`,
    );
    for (const g of gaps) assert.ok(g >= 1990 && g <= 3000, `exit → start ${g} ms, want 2 s`);
  } finally {
    b.cleanup();
  }
});

const APP = `const http = require('http');
const id = process.env.VERSION + ' ' + process.pid + '\\n';
const s = http.createServer((req, res) => res.end(id));
s.keepAliveTimeout = 65000;
s.listen(+process.env.PORT, '127.0.0.1');
process.on('SIGTERM', () => s.close(() => process.exit(0)));
if (process.argv[2] === 'crash') {
  console.log(process.env.VERSION + ': loading the new config');
  setTimeout(() => { console.error(process.env.VERSION + ': config is broken'); process.exit(1); }, 1000);
}
`;

function composeFile(port: number, version: string, crash: boolean): string {
  return `name: e2erollback${process.pid}
services:
  web:
    command: ["node", "app.js"${crash ? ', "crash"' : ''}]
    environment:
      VERSION: ${version}
    ports: ["127.0.0.1:${port}:5000"]
    restart: unless-stopped
    stop_grace_period: 2s
    healthcheck:
      test: ["CMD-SHELL", "curl -sf -m 2 http://127.0.0.1:$$PORT/ >/dev/null"]
      interval: 1s
      timeout: 2s
      retries: 2
      start_period: 10s
      start_interval: 200ms
    deploy:
      replicas: 2
      update_config:
        failure_action: rollback
        monitor: 4s
        order: start-first
`;
}

/** Sequential keep-alive GETs until stopped: how many answered, failed, and by which version. */
function probe(port: number): {
  stop(): Promise<{ ok: number; failed: number; seen: Set<string> }>;
} {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const out = { ok: 0, failed: 0, seen: new Set<string>() };
  let running = true;
  const loop = (async () => {
    while (running) {
      await new Promise<void>((resolve) => {
        const req = http.get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => {
            if (res.statusCode === 200) {
              out.ok++;
              out.seen.add(body.split(' ')[0]!);
            } else out.failed++;
            resolve();
          });
          res.on('error', () => (out.failed++, resolve()));
        });
        req.setTimeout(2000, () => req.destroy(new Error('timeout')));
        req.on('error', () => (out.failed++, resolve()));
      });
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      agent.destroy();
      return out;
    },
  };
}

/** The directories holding the project's replica cgroups (`…/herd/<project>`), one per hierarchy
 * herd put `pid` in, read from the replica's /proc/<pid>/cgroup and this machine's mounts. */
function projectCgroupDirs(pid: number, project: string): string[] {
  const mounts = parseCgroupMounts(readFileSync('/proc/self/mountinfo', 'utf8'));
  const paths = parseProcCgroup(readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
  const dirs: string[] = [];
  for (const m of mounts) {
    const p = paths.get(m.version === 1 ? m.controllers.join(',') : '');
    const at = p?.indexOf(`/herd/${project}/`) ?? -1;
    if (p === undefined || at < 0 || !p.startsWith(m.root)) continue;
    dirs.push(join(m.mountPoint, relative(m.root, p.slice(0, at + `/herd/${project}`.length))));
  }
  return dirs;
}

/** The replica cgroups (directories) in a project's cgroup directory. */
function replicaCgroups(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((e) => statSync(join(dir, e)).isDirectory());
}

test('a crashing new definition is rolled back, loses nothing, and stays rolled back', async () => {
  const port = await freePort();
  const b = box('rollback', { 'app.js': APP, 'compose.yaml': composeFile(port, 'v1', false) });
  const write = (version: string, crash: boolean) =>
    writeFileSync(join(b.dir, 'compose.yaml'), composeFile(port, version, crash));
  const versions = async () =>
    (await b.psNow(false))
      .filter((r) => r.State === 'running' && r.Health === 'healthy')
      .map((r) => r.Pid);
  try {
    b.ok(['up', '-d', '--wait', '--wait-timeout', '40']);
    const before = await versions();
    assert.equal(before.length, 2);
    const p = probe(port);
    const events = b.spawn(['events']);
    write('v2', true);
    const up = await b.run(['up', '-d']);
    const seen = await p.stop();
    await events.stop();
    assert.match(events.output(), /service update web \(kind=update, state=updating/);
    assert.match(
      events.output(),
      /service update web \(kind=update, state=rolling back, reason=web-1's new replica exited/,
    );
    assert.notEqual(up.status, 0, up.stdout + up.stderr);
    assert.match(
      up.stderr,
      /rolled back to the previous definition: web-1's new replica exited (within the 4s monitor|before it was ready|before it took over) \(exit 1\)/,
    );
    assert.match(up.stderr, /\| v2: config is broken/, "the failing replica's last lines");
    assert.equal(seen.failed, 0, `no request lost (${seen.ok} answered)`);
    await waitFor('both v1 and healthy', async () => (await versions()).length === 2, 20_000);
    assert.ok((await versions()).includes(before[1]!), 'web-2 was never replaced');
    const ps = b.ok(['ps']);
    assert.match(ps, /web: update (rolled back|failed, rolling back)/, ps);
    const json = b.ps(false);
    assert.ok(
      json.every((r) => (r as unknown as { Update: string }).Update !== ''),
      'rows carry it',
    );
    const record = JSON.parse(readFileSync(join(b.stateDir, 'definitions.json'), 'utf8')) as {
      services: { live: { environment: Record<string, string> } }[];
    };
    assert.equal(record.services[0]!.live.environment.VERSION, 'v1');

    // The daemon dies; the one its proxy starts again (the file still says v2) keeps what was
    // live, v1, and adopts the replicas running it.
    const state = JSON.parse(readFileSync(join(b.stateDir, 'state.json'), 'utf8')) as {
      daemonPid: number;
    };
    const live = await versions();
    process.kill(state.daemonPid, 'SIGKILL');
    await waitFor('daemon gone', () => !pidAlive(state.daemonPid));
    await waitFor(
      'the daemon back with the same replicas',
      async () => {
        const rows = await b.psNow(false).catch(() => []);
        const pids = rows.filter((r) => r.State === 'running').map((r) => r.Pid);
        return pids.length === 2 && pids.every((p) => live.includes(p));
      },
      20_000,
    );
    for (const r of (await b.psNow(false)).filter((r) => r.Pid !== null)) {
      const env = readFileSync(`/proc/${r.Pid}/environ`, 'utf8');
      assert.match(env, /\0VERSION=v1\0/, `${r.Name} runs v1 after the daemon restarted`);
    }
    // Nothing leaked across the daemon's death: the project's cgroups are the two adopted
    // replicas', now the new daemon's (named after it), and each holds its replica.
    const project = `e2erollback${process.pid}`;
    const cgDirs = projectCgroupDirs(live[0]!, project);
    assert.ok(
      cgDirs.length > 0,
      `replicas run in herd's cgroups: ${readFileSync(`/proc/${live[0]}/cgroup`, 'utf8')}`,
    );
    const successor = (
      JSON.parse(readFileSync(join(b.stateDir, 'state.json'), 'utf8')) as { daemonPid: number }
    ).daemonPid;
    for (const dir of cgDirs) {
      const kept = replicaCgroups(dir);
      assert.equal(kept.length, 2, `${dir}: ${kept.join(' ')}`);
      assert.ok(
        kept.every((e) => e.includes(`.${successor}.`)),
        `claimed by ${successor}: ${kept.join(' ')}`,
      );
      const held = kept.flatMap((e) =>
        readFileSync(join(dir, e, 'cgroup.procs'), 'utf8')
          .trim()
          .split('\n')
          .map(Number),
      );
      for (const pid of live) assert.ok(held.includes(pid!), `${pid} in its cgroup: ${held}`);
    }

    // A good change, then `herd rollback` takes it back.
    write('v3', false);
    b.ok(['up', '-d', '--wait', '--wait-timeout', '40'], { timeoutMs: 90_000 });
    const onV3 = await versions();
    b.ok(['rollback', 'web'], { timeoutMs: 90_000 });
    const after = (await b.psNow(false)).filter((r) => r.State === 'running');
    assert.equal(after.length, 2);
    for (const r of after) {
      assert.ok(!onV3.includes(r.Pid), `${r.Name} replaced`);
      assert.match(readFileSync(`/proc/${r.Pid}/environ`, 'utf8'), /\0VERSION=v1\0/);
    }
    const refused = b.herd(['rollback', 'nope']);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /no such service: nope/);
    // Two replacements later, still one cgroup per replica; none once the stack is down.
    await waitFor('one cgroup per replica', () =>
      cgDirs.every((dir) => replicaCgroups(dir).length === 2),
    );
    b.ok(['down'], { timeoutMs: 60_000 });
    for (const dir of cgDirs) assert.equal(existsSync(dir), false, `${dir} left after down`);
  } finally {
    b.cleanup();
  }
});
