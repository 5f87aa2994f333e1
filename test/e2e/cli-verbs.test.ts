// The Compose verbs of issue 15 through the binary: version, ls, exec, run, wait, stats,
// completion, config's listing flags, and ps of a project that is not running.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inTerminal, sandbox, type Sandbox } from '../helpers/e2e.ts';
import { tempDir } from '../helpers/tmp.ts';

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

const APP = `const http = require('http');
const s = http.createServer((req, res) => res.end(process.env.HERD_SERVICE + '-' + process.env.HERD_REPLICA + '\\n'));
s.listen(+process.env.PORT, '127.0.0.1');
process.on('SIGTERM', () => s.close(() => process.exit(0)));
`;

/** A project `name` in its own temp dir, with XDG_STATE_HOME there too, so `herd ls` sees only
 * what this test starts. */
function box(name: string, compose: string): Sandbox {
  const root = tempDir(`cli-${name}`);
  const dir = join(root, name);
  spawnSync('mkdir', ['-p', dir]);
  writeFileSync(join(dir, 'compose.yaml'), compose);
  writeFileSync(join(dir, 'app.js'), APP);
  return sandbox(root, dir, { XDG_STATE_HOME: join(root, 'xdg') });
}

const STACK = `services:
  db:
    command: ["node", "app.js"]
    expose: ["7000"]
  web:
    command: ["node", "app.js"]
    depends_on: [db]
    deploy:
      replicas: 2
    mem_limit: 256m
  job:
    command: ["sh", "-c", "sleep 1; exit 5"]
    restart: "no"
volumes:
  data: {}
`;

test('version, --version and -v print package.json version', () => {
  const b = box('ver', STACK);
  try {
    for (const args of [['--version'], ['-v'], ['version']])
      assert.equal(b.ok(args), `herd version ${VERSION}\n`, args.join(' '));
    assert.equal(b.ok(['version', '--short']), `${VERSION}\n`);
    assert.deepEqual(JSON.parse(b.ok(['version', '--format', 'json'])), { version: VERSION });
    const bad = b.herd(['version', '--format', 'xml']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--format xml: expected pretty or json/);
  } finally {
    b.cleanup();
  }
});

test('ps of a project that is not running: an empty list, exit 0; ls lists nothing', () => {
  const b = box('idle', STACK);
  try {
    assert.match(b.ok(['ps']), /^NAME\s+SERVICE\s+STATUS/);
    assert.equal(b.ok(['ps', '--format', 'json']), '');
    assert.equal(b.ok(['ps', '-q']), '');
    assert.deepEqual(JSON.parse(b.ok(['ls', '--format', 'json'])), []);
    // exec and wait need a running daemon and say so
    const exec = b.herd(['exec', '-T', 'web', 'true']);
    assert.equal(exec.status, 1);
    assert.match(exec.stderr, /no herd daemon running for project idle/);
  } finally {
    b.cleanup();
  }
});

test('config --services (with service arguments), --volumes, --profiles, --images, --hash, --format json', () => {
  const b = box('cfg', STACK);
  try {
    assert.deepEqual(b.ok(['config', '--services']).split('\n').filter(Boolean).sort(), [
      'db',
      'job',
      'web',
    ]);
    // a service argument: it and what it depends on
    assert.deepEqual(b.ok(['config', '--services', 'web']).trim().split('\n').sort(), [
      'db',
      'web',
    ]);
    assert.equal(b.ok(['config', '--volumes']), 'data\n');
    assert.equal(b.ok(['config', '--profiles']), '');
    assert.equal(b.ok(['config', '--images']), ''); // process services have no image
    const hashes = b.ok(['config', '--hash', '*']).trim().split('\n');
    assert.deepEqual(
      hashes.map((l) => l.split(' ')[0]),
      ['db', 'job', 'web'],
    );
    assert.ok(
      hashes.every((l) => /^\w+ [0-9a-f]{64}$/.test(l)),
      hashes.join('\n'),
    );
    assert.equal(b.ok(['config', '--hash', 'web']), `${hashes[2]}\n`);
    const json = JSON.parse(b.ok(['config', '--format', 'json'])) as {
      name: string;
      services: Record<string, unknown>;
    };
    assert.equal(json.name, 'cfg');
    assert.deepEqual(Object.keys(json.services), ['db', 'job', 'web']);
    const nope = b.herd(['config', '--hash', 'nope']);
    assert.equal(nope.status, 1);
    assert.match(nope.stderr, /nope/);
  } finally {
    b.cleanup();
  }
});

test('ls, exec, run, wait and stats against a running stack', () => {
  const b = box('live', STACK);
  try {
    b.ok(['up', '-d', '--wait', '--wait-timeout', '30', 'web']);

    // ls, from any folder: the project's status and compose file
    const ls = JSON.parse(b.ok(['ls', '--format', 'json'])) as Record<string, string>[];
    assert.deepEqual(ls, [
      { Name: 'live', Status: 'running(3)', ConfigFiles: join(b.dir, 'compose.yaml') },
    ]);
    assert.match(b.ok(['ls']), /^NAME\s+STATUS\s+CONFIG FILES\nlive\s+running\(3\)/);
    assert.equal(b.ok(['ls', '-q']), 'live\n');

    // exec: the replica's environment, working dir and exit code; exactly the command's output
    assert.equal(b.ok(['exec', '-T', 'web', 'sh', '-c', 'echo $HERD_REPLICA']), '1\n');
    assert.equal(b.ok(['exec', '-T', '--index', '2', 'web', 'printenv', 'HERD_REPLICA']), '2\n');
    assert.equal(b.ok(['exec', '-T', 'web', 'pwd']), `${b.dir}\n`);
    assert.equal(
      b.ok(['exec', '-T', '-e', 'X=y', '-w', '/', 'web', 'sh', '-c', 'echo $X; pwd']),
      'y\n/\n',
    );
    assert.equal(b.herd(['exec', '-T', 'web', 'sh', '-c', 'exit 3']).status, 3);
    const missing = b.herd(['exec', '-T', '--index', '9', 'web', 'true']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /web has no running replica 9/);
    const notFound = b.herd(['exec', '-T', 'web', 'no-such-command-x']);
    assert.equal(notFound.status, 127);
    // the command joins the replica's cgroup (the same as the replica's own, whatever it is)
    const cg = b.ok(['exec', '-T', 'web', 'cat', '/proc/self/cgroup']);
    const replicaPid = b.ps(false).find((r) => r.Name === 'live-web-1')!.Pid!;
    assert.equal(cg, readFileSync(`/proc/${replicaPid}/cgroup`, 'utf8'));
    // a terminal: the command gets ours when stdin is one, unless -T
    const isTty = `sh -c 'test -t 0 && test -t 1 && echo tty || echo notty'`;
    assert.equal(inTerminal(b, `exec web ${isTty}`), 'tty\r\n');
    assert.equal(inTerminal(b, `exec -T web ${isTty}`), 'notty\r\n');
    assert.equal(inTerminal(b, `run --rm --no-deps web ${isTty}`), 'tty\r\n');

    // run: a one-off with the service's environment, its own HERD_REPLICA, the exit code
    const run = b.herd([
      'run',
      '--rm',
      '-T',
      'web',
      'sh',
      '-c',
      'echo $HERD_SERVICE $HERD_REPLICA $DB_SERVICE_PORT; exit 4',
    ]);
    assert.equal(run.status, 4, run.stderr);
    const [svc, replica, dbPort] = run.stdout.trim().split(' ');
    assert.equal(svc, 'web');
    assert.match(replica!, /^run-[0-9a-f]{8}$/);
    assert.match(dbPort!, /^\d+$/);
    assert.deepEqual(
      b
        .ps(true)
        .map((r) => r.Name)
        .sort(),
      ['live-db-1', 'live-web-1', 'live-web-2'],
    );
    const entry = b.ok([
      'run',
      '--rm',
      '-T',
      '--no-deps',
      '-e',
      'X=from-run',
      '--entrypoint',
      'printenv',
      'web',
      'HERD_SERVICE',
      'X',
    ]);
    assert.equal(entry, 'web\nfrom-run\n');
    // -u: another user (herd runs as root here, so it may switch); the flags that are about a
    // container are refused for a process one-off, saying why
    assert.equal(
      b.ok(['run', '--rm', '-T', '--no-deps', '-u', '65534', 'web', 'id', '-u']),
      '65534\n',
    );
    for (const flag of [
      ['-d'],
      ['--name', 'x1'],
      ['-v', './a:/a'],
      ['-p', '8080'],
      ['--service-ports'],
    ]) {
      const refused = b.herd(['run', '--rm', '-T', '--no-deps', ...flag, 'web', 'true']);
      assert.equal(refused.status, 1);
      assert.match(
        refused.stderr,
        /^herd: --(detach|name|volume|publish|service-ports) is for a Docker service's one-off container; web runs as a process here/,
      );
    }

    // stats: one sample, table and JSON
    assert.match(
      b.ok(['stats', '--no-stream']),
      /^NAME\s+SERVICE\s+CPU %\s+MEM USAGE\s+PIDS\nlive-db-1/,
    );
    const stats = b.ok(['stats', '--no-stream', '--format', 'json', 'web']).trim().split('\n');
    assert.deepEqual(
      stats.map((l) => (JSON.parse(l) as { Name: string }).Name),
      ['live-web-1', 'live-web-2'],
    );

    // wait: the job's exit code
    b.ok(['up', '-d', 'job']);
    const wait = b.herd(['wait', 'job'], { timeoutMs: 30_000 });
    assert.equal(wait.status, 5, wait.stderr);
    assert.equal(wait.stdout, 'live-job-1 exited with code 5\n');

    // ls lists a project with nothing running only under -a, with Compose's status
    b.ok(['stop']);
    assert.deepEqual(JSON.parse(b.ok(['ls', '--format', 'json'])), []);
    assert.deepEqual(JSON.parse(b.ok(['ls', '-a', '--format', 'json'])), [
      { Name: 'live', Status: 'exited(4)', ConfigFiles: join(b.dir, 'compose.yaml') },
    ]);
  } finally {
    b.cleanup();
  }
});

test('run starts the dependencies first, as up -d --wait would', () => {
  const b = box('deps', STACK);
  try {
    const run = b.herd(['run', '--rm', '-T', 'web', 'printenv', 'DB_SERVICE_HOST']);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, '127.0.0.1\n');
    assert.deepEqual(
      b.ps(false).map((r) => r.Name),
      ['deps-db-1'],
    );
  } finally {
    b.cleanup();
  }
});

test('completion scripts complete verbs and flags in bash and fish; zsh loads its function', () => {
  const b = box('comp', STACK);
  try {
    const dir = tempDir('completion');
    const script = (shell: string) => {
      const file = join(dir, `herd.${shell}`);
      writeFileSync(file, b.ok(['completion', shell]));
      return file;
    };
    const run = (cmd: string, args: string[]) => {
      const r = spawnSync(cmd, args, { encoding: 'utf8' });
      assert.equal(r.status, 0, `${cmd}: ${r.stderr}`);
      return r.stdout;
    };
    const bash = (words: string) =>
      run('bash', [
        '-c',
        `source "$1"; COMP_WORDS=(${words}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _herd; echo "\${COMPREPLY[*]}"`,
        'bash',
        script('bash'),
      ]).trim();
    assert.equal(bash('herd ex'), 'exec');
    assert.equal(bash('herd run --r'), '--rm');
    assert.match(bash('herd -f x.yaml up --w'), /^--wait --wait-timeout$/);
    const fish = (line: string) =>
      run('fish', ['-c', `source ${script('fish')}; complete -C '${line}'`])
        .split('\n')
        .map((l) => l.split('\t')[0])
        .filter(Boolean);
    assert.ok(fish('herd ex').includes('exec'), fish('herd ex').join(' '));
    assert.ok(fish('herd run --r').includes('--rm'), fish('herd run --r').join(' '));
    run('zsh', ['-n', script('zsh')]);
    assert.match(run('zsh', ['-c', `source ${script('zsh')}; whence -w _herd`]), /_herd: function/);
    assert.equal(b.herd(['completion', 'tcsh']).status, 1);
  } finally {
    b.cleanup();
  }
});

/** The names in the Commands: section of a help text. */
function commandsIn(help: string): string[] {
  const section = help.split('\nCommands:\n')[1] ?? '';
  return [...section.matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
}

test('every verb (herd --help lists them all) has --help with an example', () => {
  const b = box('help', STACK);
  try {
    const verbs = commandsIn(b.ok(['--help']));
    for (const verb of ['exec', 'run', 'ls', 'pause', 'pull', 'completion', 'systemd'])
      assert.ok(verbs.includes(verb), `herd --help lists ${verb}`);
    // and the README's verb table has a row for each (`stop` / `start` / `restart …` share one)
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const rows = readme.split('\n').filter((l) => l.startsWith('| `'));
    for (const verb of verbs)
      assert.ok(
        rows.some((r) => new RegExp(`^\\| (\`[^|]*\` / )*\`${verb}\\b`).test(r)),
        `README's verb table has ${verb}`,
      );
    for (const verb of verbs) {
      const help = b.ok([verb, '--help']);
      // a verb with subcommands (tls ca): each of them has its example
      const subs = commandsIn(help);
      for (const [words, text] of subs.length
        ? subs.map((sub) => [`${verb} ${sub}`, b.ok([verb, sub, '--help'])])
        : [[verb, help]])
        assert.match(text!, new RegExp(`Examples?:\\n\\s+\\$ .*herd ${words}`), words);
    }
  } finally {
    b.cleanup();
  }
});

test('up -d prints the load warnings', () => {
  const b = box(
    'warns',
    'services:\n  web:\n    command: ["node", "app.js"]\n    cap_add: [NET_ADMIN]\n',
  );
  try {
    const up = b.herd(['up', '-d']);
    assert.equal(up.status, 0, up.stderr);
    assert.match(up.stderr, /herd: warning: service "web": herd does not honour `cap_add`/);
  } finally {
    b.cleanup();
  }
});
