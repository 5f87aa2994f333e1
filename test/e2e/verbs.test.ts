// Every verb from the binary, with its main flags, against one detached stack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildProgram } from '../../src/cli/main.ts';
import { freePort, pidAlive, waitFor, type Sandbox, scaledEventsDuring } from '../helpers/e2e.ts';
import { makeVerbsBox } from '../helpers/verbs-stack.ts';

const makeBox = (port: number): Sandbox => makeVerbsBox('verbs', port);

test('a verb without a running daemon says so and how to start one', async () => {
  const box = makeBox(await freePort());
  try {
    for (const verb of [['scale', 'web=2'], ['stop']]) {
      const r = box.herd(verb);
      assert.notEqual(r.status, 0, verb.join(' '));
      assert.match(
        r.stderr,
        /no herd daemon running for project verbs; start it with `herd up -d`/,
      );
    }
  } finally {
    box.cleanup();
  }
});

test('every verb has --help with an example', async () => {
  // The binary once; then every verb's help as commander renders it, in this process (each
  // `node bin/herd.js` costs a second of start-up).
  const box = makeBox(await freePort());
  try {
    assert.match(box.ok(['up', '--help']), /Examples?:\n\s+\$ herd up/);
  } finally {
    box.cleanup();
  }
  const program = await buildProgram();
  const verbs = ['up', 'ps', 'scale', 'logs', 'stop', 'start', 'restart', 'kill', 'down'];
  for (const verb of [...verbs, 'port', 'top', 'events', 'config']) {
    const cmd = program.commands.find((c) => c.name() === verb);
    assert.ok(cmd, `no verb ${verb}`);
    let help = '';
    cmd.configureOutput({ writeOut: (t) => (help += t) });
    cmd.outputHelp();
    assert.match(help, new RegExp(`Examples?:\\n\\s+\\$ herd .*${verb}`), `herd ${verb} --help`);
  }
});

test('ps, scale, logs, events, port, top, down', async () => {
  const port = await freePort();
  const box = makeBox(port);
  try {
    box.ok(['up', '-d', '--wait', '--wait-timeout', '30']);

    // ps: table, json, -q, -a
    const table = box.ok(['ps']);
    assert.match(table, /^NAME\s+SERVICE\s+STATUS\s+RESTARTS\s+PORTS/m);
    assert.match(table, /verbs-web-1\s+web\s+Up /);
    assert.match(table, new RegExp(`0\\.0\\.0\\.0:${port}->5000/tcp`));
    assert.deepEqual(box.ok(['ps', '-q']).trim().split('\n').sort(), [
      'verbs-web-1',
      'verbs-web-2',
      'verbs-worker-1',
    ]);
    const json = box.ps(false); // --format json from the binary
    assert.equal(json.length, 3);
    assert.ok(json.every((r) => r.State === 'running' && typeof r.Pid === 'number'));
    assert.deepEqual(
      json.filter((r) => r.Service === 'web').map((r) => r.Health),
      ['healthy', 'healthy'],
    );
    assert.deepEqual(box.ok(['ps', '-q', 'worker']).trim(), 'verbs-worker-1');

    // scale: bad input is a clear error and changes nothing.
    const unknown = box.herd(['scale', 'nope=2']);
    assert.notEqual(unknown.status, 0);
    assert.match(unknown.stderr, /no such service: nope/);
    const negative = box.herd(['scale', 'web=-1']);
    assert.notEqual(negative.status, 0);
    assert.match(negative.stderr, /web=-1/);
    const word = box.herd(['scale', 'web=x']);
    assert.notEqual(word.status, 0);
    assert.match(word.stderr, /web=x/);
    // A typo'd huge count is refused, and the daemon lives on.
    const huge = box.herd(['scale', 'web=99999999999']);
    assert.notEqual(huge.status, 0);
    assert.match(huge.stderr, /scale 99999999999 is over herd's limit of 1000 replicas/);
    assert.equal((await box.psNow(false)).filter((r) => r.Service === 'web').length, 2);

    // events --json sees the scaled event of a scale.
    assert.deepEqual(await scaledEventsDuring(box, 'web=3'), [{ service: 'web', from: 2, to: 3 }]);
    await waitFor(
      'three running web',
      async () =>
        (await box.psNow(false)).filter((r) => r.Service === 'web' && r.State === 'running')
          .length === 3,
    );

    // logs: prefix, --tail, --no-log-prefix, -t, -f
    await waitFor('worker ticked 3 times', () => /tick 3/.test(box.ok(['logs', 'worker'])));
    // Running is not listening yet: web-3 prints its line once it has bound its port.
    const all = await waitFor('web-3 listening in the logs', () => {
      const out = box.ok(['logs', 'web']);
      return /^web-3\s+\| web-3 listening$/m.test(out) && out;
    });
    assert.match(all, /^web-1\s+\| web-1 listening$/m);
    const tail = box.ok(['logs', '--tail', '1', 'worker']).trim().split('\n');
    assert.equal(tail.length, 1);
    assert.match(tail[0]!, /^worker-1\s+\| tick \d+$/);
    assert.match(box.ok(['logs', '--no-log-prefix', 'web']), /^web-2 listening$/m);
    assert.match(
      box.ok(['logs', '-t', '--tail', '1', 'worker']),
      /^worker-1\s+\| \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z tick \d+$/m,
    );
    // --since: a duration ago keeps recent lines; a time in the future keeps none.
    assert.match(box.ok(['logs', '--since', '10m', 'worker']), /^worker-1\s+\| tick 1$/m);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    assert.equal(box.ok(['logs', '--since', future, 'worker']).trim(), '');
    const bad = box.herd(['logs', '--since', 'yesterday', 'worker']);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /--since/);
    const follow = box.spawn(['logs', '-f', '--tail', '0', 'worker']);
    // Bounded from the spawn, so the binary's start-up is inside the bound: about 2 s here, and
    // several times that while the other test files load both cores (5 s was not enough). A tick
    // follows every 200 ms once it streams.
    await waitFor('a followed tick', () => /tick \d+/.test(follow.output()), 15_000);
    await follow.stop();

    // port and top
    assert.equal(box.ok(['port', 'web', '5000']).trim(), `0.0.0.0:${port}`);
    // An index past the replicas, a UDP port herd does not map, an unknown service for top:
    // errors, not an address or an empty table.
    const [beyond, udp, topUnknown] = await Promise.all([
      box.run(['port', 'web', '5000', '--index', '4']),
      box.run(['port', 'web', '5000', '--protocol', 'udp']),
      box.run(['top', '--no-stream', 'nosuch']),
    ]);
    assert.equal(beyond.status, 1, beyond.stdout);
    assert.match(beyond.stderr, /--index 4: service web has no replica 4; it runs 3 replicas/);
    assert.equal(udp.status, 1, udp.stdout);
    assert.match(udp.stderr, /herd has no UDP mapping for web 5000\/udp: the service declares no/);
    assert.equal(topUnknown.status, 1, topUnknown.stdout);
    assert.match(topUnknown.stderr, /no such service: nosuch \(services: web, worker\)/);
    // top: one frame when stdout is not a terminal, or with --no-stream: a CPU %/MEM row per
    // replica, then each replica's processes.
    const frameHeader = /^NAME\s+SERVICE\s+CPU %\s+MEM\s+PIDS$/gm;
    const top = box.ok(['top', 'web']);
    const webPid = (await box.psNow(false)).find((r) => r.Name === 'verbs-web-1')!.Pid!;
    assert.match(top, new RegExp(`\\b${webPid}\\b`));
    assert.match(top, /node app\.js/);
    assert.equal(top.match(frameHeader)?.length, 1, top);
    for (const n of [1, 2, 3])
      assert.match(
        top,
        new RegExp(`^verbs-web-${n}\\s+web\\s+\\d+\\.\\d\\d%\\s+[\\d.]+[KMG]iB\\s+\\d+$`, 'm'),
      );
    assert.doesNotMatch(top, /worker/);
    const once = box.ok(['top', '--no-stream']);
    assert.equal(once.match(frameHeader)?.length, 1, once);
    assert.match(once, /^verbs-worker-1\s+worker\s+\d+\.\d\d%/m);
    // --stream keeps printing frames into a pipe until Ctrl-C.
    const live = box.spawn(['top', '--stream', '-i', '0.3', 'worker']);
    const frames = () => live.output().match(frameHeader)?.length ?? 0;
    await waitFor('two frames of top --stream', () => frames() >= 2, 10_000);
    await live.stop();
    assert.equal(live.child.exitCode, 0, live.output());
    assert.match(live.output(), /^verbs-worker-1\s+worker\s+\d+\.\d\d%/m);

    // events without --json: one line per event, as `docker compose events` prints them.
    const text = box.spawn(['events']);
    await new Promise((r) => setTimeout(r, 1000)); // subscribed before the scale below
    box.ok(['scale', 'web=2']);
    await waitFor(
      'a scale line',
      () => /^\S+ service scale web \(from=3, to=2\)$/m.test(text.output()),
      10_000,
    );
    await waitFor(
      'web-3 leaving',
      () => /^\S+ replica \w+ verbs-web-3 /m.test(text.output()),
      10_000,
    );
    await text.stop();

    // down: everything gone; ps lists nothing (as `docker compose ps`), other verbs say there
    // is no daemon.
    const pids = (await box.psNow(false)).map((r) => r.Pid!);
    const down = box.ok(['down']);
    assert.match(down, /verbs-web-1\s+Removed/);
    for (const pid of pids) assert.equal(pidAlive(pid), false);
    assert.equal(box.ok(['ps', '--format', 'json', '-a']), '');
    assert.match(box.herd(['scale', 'web=1']).stderr, /no herd daemon running/);
  } finally {
    box.cleanup();
  }
});
