import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ComposeError } from '../../src/compose/errors.ts';
import { loadProject } from '../../src/compose/load.ts';
import { tempDir } from '../helpers/tmp.ts';

const fixtures = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'fixtures',
  'compose',
);

async function problemsOf(promise: Promise<unknown>): Promise<string[]> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ComposeError, `expected ComposeError, got ${String(err)}`);
    return err.message.split('\n').map((l) => l.trim());
  }
  assert.fail('expected the load to fail');
}

async function loadText(text: string, name = 'compose.yaml'): Promise<string[]> {
  const dir = tempDir('err');
  await writeFile(path.join(dir, name), text);
  return problemsOf(loadProject({ cwd: dir, env: {} }));
}

describe('compose errors', () => {
  it('reports every problem at once with file:line:col, key path and expectation', async () => {
    const lines = await problemsOf(loadProject({ cwd: path.join(fixtures, 'errors'), env: {} }));
    const f = 'compose.yaml';
    assert.equal(lines[0], '21 problems in the compose file(s):');
    const expected = [
      `${f}:4:5: services.web.helthcheck: unknown key (did you mean \`healthcheck\`?); it is not a Compose key here`,
      `${f}:7:17: services.web.healthcheck.interval: expected a duration such as 30s or 1m30s, got "3O"`,
      `${f}:8:16: services.web.healthcheck.retries: expected a non-negative integer, got "many"`,
      `${f}:10:9: services.web.ports[0]: expected a port such as "3000", "8000:8000", "127.0.0.1:8001:8001" or "6060:6060/udp": invalid port or range "80x"`,
      `${f}:11:17: services.web.ports[1].target: port 99999 is out of range 1-65535`,
      `${f}:12:14: services.web.restart: expected "no", "always", "on-failure", "on-failure:N" or "unless-stopped", got "sometimes"`,
      `${f}:17:17: services.web.deploy.resources.limits.cpus: expected a number of CPUs such as 0.5 or "2", got "lots"`,
      `${f}:16:19: services.web.deploy.resources.limits.memory: expected a size such as 512m, 1g, 100kb or a number of bytes, got "12 parsecs"`,
      `${f}:18:18: services.web.stop_signal: expected a signal name such as SIGTERM, TERM or SIGINT, or a signal number, got "SIGNOPE"`,
      `${f}:19:24: services.web.stop_grace_period: expected a duration such as 30s or 1m30s, got "soon"`,
      `${f}:22:20: services.web.depends_on.ghost.condition: expected service_started, service_healthy, service_completed_successfully, got "service_ready"`,
      `${f}:23:18: services.web.environment: expected a mapping or a list of "KEY=VALUE" strings, got number 42`,
      `${f}:24:14: services.web.expose[0]: expected a port such as "3000", "3000-3005" or "3000/udp": unsupported protocol "sctp" (herd supports tcp and udp)`,
      `${f}:26:9: services.web.volumes[0]: expected a volume such as "./src:/app:ro" or "data:/var/lib/data", got "./a:/b:rx"`,
      `${f}:28:16: services.web.x-herd.runtime: expected "process" or "docker", got "vm"`,
      `${f}:30:20: services.web.x-herd.lb.algorithm: expected round_robin, least_conn, p2c, hash, got "random"`,
      `${f}:31:12: services.web.scale: expected a non-negative integer, got number -1`,
      `${f}:32:3: services.bad name!: a service name may only contain letters, digits, ".", "_" and "-", and must start with a letter or digit`,
      `${f}:34:8: services.str: expected a mapping (the service definition), got "just-a-string"`,
      `${f}:21:7: services.web.depends_on.ghost: depends on service "ghost" is not defined`,
      `${f}:36:9: volumes.data: expected a mapping, got a list`,
    ];
    assert.deepEqual(lines.slice(1), expected);
  });

  it('resource values Docker would refuse at create are refused at load', async () => {
    const lines = await loadText(
      [
        'services:',
        '  a:',
        '    command: x',
        '    mem_limit: 64m',
        '    memswap_limit: 32m',
        '    cpu_shares: 300000',
        '  b:',
        '    command: x',
        '    memswap_limit: 1g',
        '    mem_reservation: 1g',
        '    deploy: {resources: {limits: {memory: 64m}}}',
        '  c:',
        '    command: x',
        '    cpu_shares: lots',
        '    memswap_limit: plenty',
        '',
      ].join('\n'),
    );
    assert.deepEqual(lines.slice(1), [
      'compose.yaml:6:17: services.a.cpu_shares: expected a CPU weight from 2 to 262144 (1024 is the default), got number 300000',
      'compose.yaml:5:20: services.a.memswap_limit: is 33554432 bytes, below the memory limit (mem_limit or deploy.resources.limits.memory) of 67108864 bytes: it is memory plus swap, so at least the memory limit',
      'compose.yaml:10:22: services.b.mem_reservation: is 1073741824 bytes, above the memory limit (mem_limit or deploy.resources.limits.memory) of 67108864 bytes',
      'compose.yaml:14:17: services.c.cpu_shares: expected a CPU weight from 2 to 262144 (1024 is the default), got "lots"',
      'compose.yaml:15:20: services.c.memswap_limit: expected a size such as 512m, 1g, 100kb or a number of bytes, got "plenty"',
    ]);
    const alone = await loadText('services:\n  a:\n    command: x\n    memswap_limit: 1g\n');
    assert.deepEqual(alone, [
      'compose.yaml:4:20: services.a.memswap_limit: needs the memory limit (mem_limit or deploy.resources.limits.memory): it is memory plus swap (use -1 for unlimited swap)',
    ]);
  });

  it('a single problem is reported on one line', async () => {
    const lines = await loadText('services:\n  web:\n    image: x\n    restart: on-failure:x\n');
    assert.deepEqual(lines, [
      'compose.yaml:4:14: services.web.restart: expected "no", "always", "on-failure", "on-failure:N" or "unless-stopped", got "on-failure:x"',
    ]);
  });

  it('suggests the nearest top-level key', async () => {
    const lines = await loadText('servics:\n  web:\n    image: x\n');
    assert.match(
      lines[0] ?? '',
      /^compose\.yaml:1:1: servics: unknown key \(did you mean `services`\?\)/,
    );
  });

  it('scale and deploy.replicas must agree', async () => {
    const lines = await loadText(
      'services:\n  web:\n    image: x\n    scale: 2\n    deploy:\n      replicas: 3\n',
    );
    assert.deepEqual(lines, [
      'compose.yaml:6:17: services.web.deploy.replicas: conflicts with scale: 2 (they must be equal when both are set)',
    ]);
  });

  it('names a dependency cycle', async () => {
    const lines = await loadText(
      'services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n    depends_on: [c]\n  c:\n    image: x\n    depends_on: [a]\n',
    );
    assert.deepEqual(lines, [
      'compose.yaml:4:18: services.a.depends_on: dependency cycle: a -> b -> c -> a',
    ]);
  });

  it('an optional unknown dependency is only a warning', async () => {
    const dir = tempDir('err');
    await writeFile(
      path.join(dir, 'compose.yaml'),
      'services:\n  a:\n    image: x\n    depends_on:\n      ghost:\n        required: false\n',
    );
    const p = await loadProject({ cwd: dir, env: {} });
    assert.deepEqual(p.services.a?.dependsOn, {});
    assert.deepEqual(p.warnings, [
      'service "a": optional dependency skipped: service "ghost" is not defined',
    ]);
  });

  it('a missing required env_file names the path', async () => {
    const dir = tempDir('err');
    await writeFile(
      path.join(dir, 'compose.yaml'),
      'services:\n  a:\n    image: x\n    env_file: [missing.env]\n',
    );
    const lines = await problemsOf(loadProject({ cwd: dir, env: {} }));
    assert.deepEqual(lines, [
      `compose.yaml:4:16: services.a.env_file[0]: env file ${path.join(dir, 'missing.env')} not found (add \`required: false\` to make it optional)`,
    ]);
  });

  it('bad healthcheck test and bad x-herd values', async () => {
    const lines = await loadText(
      [
        'services:',
        '  a:',
        '    image: x',
        '    healthcheck:',
        '      test: ["RUN", "x"]',
        '    x-herd:',
        '      lb: {hash_on: "body"}',
        '      heal_unhealthy: maybe',
      ].join('\n'),
    );
    assert.deepEqual(lines.slice(1), [
      'compose.yaml:5:13: services.a.healthcheck.test: expected a string, or a list starting with "CMD", "CMD-SHELL" or "NONE" followed by the command, got a list',
      'compose.yaml:7:21: services.a.x-herd.lb.hash_on: expected "ip", "header:NAME" or "cookie:NAME", got "body"',
      'compose.yaml:8:23: services.a.x-herd.heal_unhealthy: expected true or false, got "maybe"',
    ]);
  });

  it('an include whose file is missing names it at the entry', async () => {
    const lines = await loadText('include:\n  - other.yaml\nservices: {}\n');
    assert.equal(lines.length, 1);
    assert.match(
      lines[0] ?? '',
      /^compose\.yaml:2:5: include: included file \/.*\/other\.yaml not found$/,
    );
  });

  it('no compose file names the candidates', async () => {
    // The filesystem root: no parent folder left to search, and no compose file there.
    const root = path.parse(tmpdir()).root;
    await assert.rejects(
      loadProject({ cwd: root, env: {} }),
      /no compose file found in \/ or its parents \(looked for compose\.yaml, compose\.yml, docker-compose\.yaml, docker-compose\.yml\); pass one with -f/,
    );
  });
});

describe('odd YAML never crashes', () => {
  const cases: [string, string, RegExp][] = [
    [
      'a scalar file',
      'hello\n',
      /^compose\.yaml:1:1: compose\.yaml must be a mapping with a `services` key at the top level, got "hello"$/,
    ],
    [
      'a list at top level',
      '- a\n- b\n',
      /^compose\.yaml:1:1: compose\.yaml must be a mapping .* got a list$/,
    ],
    [
      'a service that is a string',
      'services:\n  web: nginx\n',
      /^compose\.yaml:2:8: services\.web: expected a mapping \(the service definition\), got "nginx"$/,
    ],
    [
      'services as a list',
      'services:\n  - web\n',
      /^compose\.yaml:2:3: services: expected a mapping, got a list$/,
    ],
    ['tabs for indentation', 'services:\n\tweb:\n', /^compose\.yaml:2:1: invalid YAML: /],
    [
      'duplicate keys',
      'services:\n  web:\n    image: a\n    image: b\n',
      /^compose\.yaml:4:5: invalid YAML: Map keys must be unique/,
    ],
    [
      'invalid syntax',
      'services:\n  web:\n    image: [a, b\n',
      /^compose\.yaml:\d+:\d+: invalid YAML: /,
    ],
    [
      'an unknown alias',
      'services:\n  web: *nope\n',
      /^compose\.yaml:2:8: unknown YAML alias \*nope$/,
    ],
    [
      'a mapping key that is a list',
      'services:\n  ? [a, b]\n  : {}\n',
      /^compose\.yaml:2:5: mapping keys must be plain strings$/,
    ],
    [
      'a merge key with a scalar',
      'x-a: &a 1\nservices:\n  web:\n    <<: *a\n',
      /^compose\.yaml:1:9: the YAML merge key << needs a mapping/,
    ],
  ];
  for (const [name, text, re] of cases) {
    it(name, async () => {
      const lines = await loadText(text);
      assert.match(lines[0] ?? '', re);
    });
  }

  it('an empty file and services: null load as an empty project', async () => {
    for (const text of ['', 'services:\n', '# only a comment\n']) {
      const dir = tempDir('err');
      await writeFile(path.join(dir, 'compose.yaml'), text);
      const p = await loadProject({ cwd: dir, env: {} });
      assert.deepEqual(p.services, {});
    }
  });
});

describe('x-herd', () => {
  it('unknown keys are errors with a did-you-mean, at service and top level', async () => {
    const lines = await loadText(
      [
        'x-herd:',
        '  prxy: {workers: 2}',
        'services:',
        '  web:',
        '    command: x',
        '    x-herd:',
        '      rolout: {parallelism: 2}',
        '      heal_unhealty: false',
        '      x-note: extension keys stay allowed',
      ].join('\n'),
    );
    assert.deepEqual(lines.slice(1), [
      'compose.yaml:7:7: services.web.x-herd.rolout: unknown key (did you mean `rollout`?); expected one of: runtime, lb, heal_unhealthy, rollout, autoscale, routes',
      'compose.yaml:8:7: services.web.x-herd.heal_unhealty: unknown key (did you mean `heal_unhealthy`?); expected one of: runtime, lb, heal_unhealthy, rollout, autoscale, routes',
      'compose.yaml:2:3: x-herd.prxy: unknown key (did you mean `proxy`?); expected one of: proxy, metrics, dashboard, ingress',
    ]);
  });

  it('rollout and proxy settings are checked at load, with their position', async () => {
    const lines = await loadText(
      [
        'x-herd:',
        '  proxy: {workers: 0, treads: 2}',
        'services:',
        '  web:',
        '    command: x',
        '    x-herd:',
        '      rollout:',
        '        order: sideways',
        '        paralellism: 2',
        '        ready_timeout: soon',
        '  ranged:',
        '    command: x',
        '    x-herd: {rollout: {order: start-first}}',
        '    ports: ["8080-8081:80"]',
        '  listed:',
        '    command: x',
        '    x-herd: {rollout: [1]}',
      ].join('\n'),
    );
    assert.deepEqual(lines.slice(1), [
      'compose.yaml:9:9: services.web.x-herd.rollout.paralellism: unknown key (did you mean `parallelism`?); expected one of: parallelism, order, ready_timeout',
      'compose.yaml:8:16: services.web.x-herd.rollout.order: expected "start-first" or "stop-first", got "sideways"',
      'compose.yaml:10:24: services.web.x-herd.rollout.ready_timeout: expected a duration such as 30s or 2m, got "soon"',
      'compose.yaml:13:31: services.ranged.x-herd.rollout.order: start-first cannot work here: each replica owns a host port of a published range, so a successor could not listen next to it; use stop-first',
      'compose.yaml:17:23: services.listed.x-herd.rollout: expected a mapping with parallelism, order, ready_timeout, got [1]',
      'compose.yaml:2:23: x-herd.proxy.treads: unknown key; expected one of: workers',
      "compose.yaml:2:20: x-herd.proxy.workers: expected a whole number from 1 to 32, got 0; use 1 to serve every port from herd's own process",
    ]);
  });
});

describe('port host IPs', () => {
  it('an extra or malformed field before the ports is an error, not a host to bind', async () => {
    const lines = await loadText(
      [
        'services:',
        '  web:',
        '    command: x',
        '    ports:',
        '      - "80:80:80"',
        '      - "1.2.3:81:81"',
        '      - "[localhost]:82:82"',
        '      - {target: 83, host_ip: "999.0.0.1"}',
      ].join('\n'),
    );
    const hint =
      'expected a port such as "3000", "8000:8000", "127.0.0.1:8001:8001" or "6060:6060/udp"';
    const why = '(not an IPv4 or IPv6 address such as 127.0.0.1 or [::1])';
    assert.deepEqual(lines.slice(1), [
      `compose.yaml:5:9: services.web.ports[0]: ${hint}: invalid host IP "80" ${why}`,
      `compose.yaml:6:9: services.web.ports[1]: ${hint}: invalid host IP "1.2.3" ${why}`,
      `compose.yaml:7:9: services.web.ports[2]: ${hint}: invalid host IP "localhost" ${why}`,
      'compose.yaml:8:31: services.web.ports[3].host_ip: expected an IPv4 or IPv6 address such as 127.0.0.1 or ::1, got "999.0.0.1"',
    ]);
  });
});

describe('every key with every odd value', () => {
  it('never throws anything but a ComposeError', async () => {
    const { ALL_SERVICE_KEYS } = await import('../../src/compose/keys.ts');
    const odd = [
      'null',
      '1',
      '-1',
      'x',
      'true',
      '[]',
      '{}',
      '[null]',
      '[{}]',
      '[[1]]',
      '{a: null}',
      '{a: [1]}',
    ];
    const nested = ['healthcheck', 'deploy', 'x-herd', 'build', 'depends_on', 'extends'];
    const subKeys: Record<string, string[]> = {
      healthcheck: ['test', 'interval', 'retries', 'disable'],
      deploy: ['replicas', 'resources', 'restart_policy'],
      'x-herd': ['runtime', 'lb', 'heal_unhealthy', 'rollout', 'autoscale', 'routes'],
      build: ['context', 'args'],
      depends_on: ['db'],
      extends: ['service', 'file'],
    };
    const dir = tempDir('fuzz');
    const file = path.join(dir, 'compose.yaml');
    const bodies: string[] = [];
    for (const key of ALL_SERVICE_KEYS) for (const v of odd) bodies.push(`    ${key}: ${v}`);
    for (const key of nested) {
      for (const sub of subKeys[key] ?? [])
        for (const v of odd) bodies.push(`    ${key}:\n      ${sub}: ${v}`);
    }
    for (const v of odd)
      bodies.push(`    x-herd:\n      lb:\n        sticky: ${v}\n        hash_on: ${v}`);
    for (const top of ['name', 'volumes', 'x-herd', 'include', 'networks'])
      for (const v of odd) bodies.push(`    image: x\n${top}: ${v}`);
    for (const v of odd) bodies.push(`    image: x\nx-herd:\n  proxy: ${v}`);
    for (const body of bodies) {
      await writeFile(file, `services:\n  db:\n    image: db\n  web:\n${body}\n`);
      try {
        await loadProject({ cwd: dir, env: {} });
      } catch (err) {
        assert.ok(err instanceof ComposeError, `${body}\n=> ${(err as Error).stack}`);
      }
    }
  });
});

describe('alias bombs', () => {
  it('stop with a clear error instead of exhausting memory', async () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const cur = String.fromCharCode(97 + i);
      levels.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const text = `x-bomb:\n${levels.map((l) => `  ${l}`).join('\n')}\nservices: {}\n`;
    const lines = await loadText(text);
    assert.match(
      lines[0] ?? '',
      /YAML expands to more than 200000 values \(alias expansion too large\)$/,
    );
  });
  it('a service with nothing to run is refused at load, as Compose does', async () => {
    const lines = await loadText(
      'services:\n  web:\n    command: ["x"]\n  api:\n    ports: ["8080:80"]\n',
    );
    assert.deepEqual(lines, [
      'compose.yaml:4:3: services.api: nothing to run: add `command:` (a local process, e.g. command: ["node", "app.js"]) or `image:`/`build:` (a Docker container)',
    ]);
  });
  it("a replica count past herd's limit is an error at its position", async () => {
    const lines = await loadText(
      'services:\n  web:\n    command: ["x"]\n    scale: 1000000000\n  api:\n    command: ["x"]\n    deploy: {replicas: 5000}\n',
    );
    assert.deepEqual(lines, [
      '2 problems in the compose file(s):',
      "compose.yaml:4:12: services.web.scale: expected at most 1000 replicas (herd's limit per service), got number 1000000000",
      "compose.yaml:7:24: services.api.deploy.replicas: expected at most 1000 replicas (herd's limit per service), got number 5000",
    ]);
  });
});
