// The compose files of the seed tutorials (/work/shared/seeds/*.txt, Docker Compose scaling blog
// posts), kept as fixtures in test/fixtures/compose/seeds/<seed>-<n>.yaml. Each fixture's first
// line names the seed file and the line the file starts on; docs/COMPAT.md ("Seed tutorials")
// records the results. The fixtures reference bind-mount sources (./nginx.conf, ./app.py) that do
// not exist on purpose: the loader only resolves them, so no stand-in files are needed.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ComposeError } from '../../src/compose/errors.ts';
import { loadProject } from '../../src/compose/load.ts';
import type { Project, Service } from '../../src/compose/model.ts';
import { tempDir } from '../helpers/tmp.ts';

const seeds = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'fixtures',
  'compose',
  'seeds',
);

function load(fixture: string): Promise<Project> {
  return loadProject({ files: [path.join(seeds, fixture)], cwd: seeds, env: {} });
}

function svc(p: Project, name: string): Service {
  const s = p.services[name];
  assert.ok(s, `service ${name} missing; have ${Object.keys(p.services).join(', ')}`);
  return s;
}

/** The parts of a service the tutorials are about, in a shape that is easy to compare. */
interface Summary {
  image?: string;
  scale: number;
  /** "published:target/proto", "target/proto" for an ephemeral host port. */
  ports: string[];
  expose: string[];
  restart: string;
  dependsOn: Record<string, string>;
  healthcheck: boolean;
}

function summary(s: Service): Summary {
  return {
    image: s.image,
    scale: s.scale,
    ports: s.ports.map((p) => {
      const pub = p.published
        ? `${p.published.start}${p.published.end !== p.published.start ? `-${p.published.end}` : ''}:`
        : '';
      return `${p.hostIp ? `${p.hostIp}:` : ''}${pub}${p.target}/${p.protocol}`;
    }),
    expose: s.expose.map((e) => `${e.port}/${e.protocol}`),
    restart: s.restart.condition,
    dependsOn: Object.fromEntries(Object.entries(s.dependsOn).map(([n, d]) => [n, d.condition])),
    healthcheck: s.healthcheck !== undefined,
  };
}

function summaries(p: Project): Record<string, Summary> {
  return Object.fromEntries(Object.entries(p.services).map(([n, s]) => [n, summary(s)]));
}

const base = { expose: [], restart: 'no', dependsOn: {}, healthcheck: false, scale: 1 };
const VERSION_OBSOLETE =
  'the attribute `version` is obsolete, it will be ignored; please remove it to avoid confusion';

// Seed 000 (episode 9 of a Compose series): nginx in front of a python app, scaled by hand, then
// with --scale, then with a restart policy; Exercise 2 is postgres + the noteboard app.
const nginx000: Summary = {
  ...base,
  image: 'nginx:latest',
  ports: ['8080:80/tcp'],
};
const web000: Summary = { ...base, image: 'python:slim', ports: [] };

describe('seed 000: nginx + python web, scaled', () => {
  it('000-1: the starting point — one web behind nginx', async () => {
    const p = await load('000-1.yaml');
    assert.deepEqual(summaries(p), { nginx: nginx000, web: web000 });
    assert.deepEqual(p.warnings, []);
    const web = svc(p, 'web');
    assert.deepEqual(web.command, ['python', '/app/app.py']);
    assert.equal(web.workingDir, '/app');
    // Bind sources are resolved against the fixture folder, not checked for existence.
    assert.deepEqual(web.volumes, [
      { type: 'bind', source: path.join(seeds, 'app.py'), target: '/app/app.py', readOnly: false },
    ]);
    assert.equal(existsSync(path.join(seeds, 'app.py')), false);
    assert.deepEqual(svc(p, 'nginx').volumes, [
      {
        type: 'bind',
        source: path.join(seeds, 'nginx.conf'),
        target: '/etc/nginx/conf.d/default.conf',
        readOnly: false,
      },
    ]);
    assert.equal(p.name, 'seeds');
  });

  it('000-2: web1 and web2 copied by hand, services kept in file order', async () => {
    const p = await load('000-2.yaml');
    assert.deepEqual(Object.keys(p.services), ['nginx', 'web1', 'web2']);
    assert.deepEqual(summaries(p), { nginx: nginx000, web1: web000, web2: web000 });
    assert.deepEqual(svc(p, 'web2').command, svc(p, 'web1').command);
    assert.deepEqual(p.warnings, []);
  });

  it('000-3: one web service, nginx depends_on it (short form = service_started)', async () => {
    const p = await load('000-3.yaml');
    assert.deepEqual(summaries(p), {
      nginx: { ...nginx000, dependsOn: { web: 'service_started' } },
      web: web000,
    });
    assert.deepEqual(svc(p, 'nginx').dependsOn.web, {
      condition: 'service_started',
      required: true,
      restart: false,
    });
    assert.deepEqual(p.warnings, []);
  });

  it('000-4: restart: unless-stopped on web only', async () => {
    const p = await load('000-4.yaml');
    assert.deepEqual(summaries(p), {
      nginx: nginx000,
      web: { ...web000, restart: 'unless-stopped' },
    });
    assert.equal(svc(p, 'web').restart.maxAttempts, undefined);
    assert.deepEqual(p.warnings, []);
  });

  it('000-5: noteboard + postgres, named volume, no depends_on', async () => {
    const p = await load('000-5.yaml');
    assert.deepEqual(Object.keys(p.services), ['db', 'app']);
    assert.deepEqual(summaries(p), {
      db: { ...base, image: 'postgres:16', ports: [] },
      app: {
        ...base,
        image: 'gitea.dtio.app/davidtio/noteboard:latest',
        ports: ['5000:5000/tcp'],
        restart: 'unless-stopped',
      },
    });
    assert.deepEqual(svc(p, 'db').environment, {
      POSTGRES_DB: 'app',
      POSTGRES_USER: 'app',
      POSTGRES_PASSWORD: 'app',
    });
    assert.deepEqual(svc(p, 'app').volumes, [
      { type: 'volume', source: 'appstate', target: '/app/state', readOnly: false },
    ]);
    assert.deepEqual(Object.keys(p.volumes), ['appstate']);
    assert.deepEqual(p.warnings, []);
  });
});

describe('seed 001: Black Friday — app behind nginx', () => {
  it('001-1: app without ports, nginx publishes 80 and depends on app', async () => {
    const p = await load('001-1.yaml');
    assert.deepEqual(summaries(p), {
      app: { ...base, image: 'my-app', ports: [] },
      nginx: {
        ...base,
        image: 'nginx:alpine',
        ports: ['80:80/tcp'],
        dependsOn: { app: 'service_started' },
      },
    });
    assert.equal(svc(p, 'nginx').volumes[0]?.readOnly, true);
    assert.deepEqual(p.warnings, []);
  });
});

describe('seed 002: Lesson 25 — scaling and multi-container patterns', () => {
  it('002-1: deploy.replicas, ephemeral host port, networks joined by the containers', async () => {
    const p = await load('002-1.yaml');
    assert.deepEqual(Object.keys(p.services), ['web', 'app', 'db']);
    assert.deepEqual(summaries(p), {
      web: { ...base, image: 'nginx:alpine', scale: 3, ports: ['8080/tcp'] },
      app: { ...base, image: 'myapp:latest', ports: [], dependsOn: { db: 'service_started' } },
      db: { ...base, image: 'mysql:8', ports: [] },
    });
    assert.deepEqual(svc(p, 'app').environment, { DB_HOST: 'db' });
    assert.deepEqual(Object.keys(p.volumes), ['db_data']);
    assert.deepEqual(p.warnings, [VERSION_OBSOLETE]);
    assert.deepEqual(
      Object.keys(p.networks ?? {}).sort(),
      ['default', 'frontend', 'backend'].sort(),
    );
  });

  it('002-2: one httpd web publishing 8080:80 (the tutorial scales it to 4)', async () => {
    const p = await load('002-2.yaml');
    assert.deepEqual(summaries(p), {
      web: { ...base, image: 'httpd:alpine', ports: ['8080:80/tcp'] },
    });
    assert.deepEqual(p.warnings, []);
  });

  it('002-3: host port range 8080-8082 and a shared named volume', async () => {
    const p = await load('002-3.yaml');
    assert.deepEqual(summaries(p), {
      web: { ...base, image: 'nginx', ports: ['8080-8082:80/tcp'] },
    });
    assert.deepEqual(svc(p, 'web').volumes, [
      { type: 'volume', source: 'shared_data', target: '/usr/share/nginx/html', readOnly: false },
    ]);
    assert.deepEqual(p.warnings, []);
  });

  it('002-4: traefik with a list command, web labels as a list, replicas 3', async () => {
    const p = await load('002-4.yaml');
    assert.deepEqual(summaries(p), {
      traefik: { ...base, image: 'traefik:v2.9', ports: ['80:80/tcp'] },
      web: { ...base, image: 'nginx', scale: 3, ports: [] },
    });
    assert.deepEqual(svc(p, 'traefik').command, [
      '--providers.docker=true',
      '--entrypoints.web.address=:80',
    ]);
    assert.deepEqual(svc(p, 'traefik').volumes[0]?.source, '/var/run/docker.sock');
    assert.deepEqual(svc(p, 'web').labels, {
      'traefik.http.routers.web.rule': 'Host(`localhost`)',
      'traefik.port': '80',
    });
    assert.deepEqual(p.warnings, [VERSION_OBSOLETE]);
  });
});

describe('seed 003: high availability and scaling', () => {
  const app = { ...base, image: 'myapp', scale: 3, ports: [] };

  it('003-1: expose only, deploy.replicas 3', async () => {
    const p = await load('003-1.yaml');
    assert.deepEqual(summaries(p), { app: { ...app, expose: ['8000/tcp'] } });
    assert.deepEqual(p.warnings, []);
  });

  it('003-2: nginx in front of 3 replicas; version warned', async () => {
    const p = await load('003-2.yaml');
    assert.deepEqual(Object.keys(p.services), ['nginx', 'app']);
    assert.deepEqual(summaries(p), {
      nginx: {
        ...base,
        image: 'nginx:alpine',
        ports: ['80:80/tcp'],
        dependsOn: { app: 'service_started' },
      },
      app: { ...app, expose: ['8000/tcp'] },
    });
    assert.deepEqual(p.warnings, [VERSION_OBSOLETE]);
  });

  it('003-3: deploy.restart_policy wins over restart:, healthcheck read', async () => {
    const p = await load('003-3.yaml');
    assert.deepEqual(summaries(p), { app: { ...app, restart: 'on-failure', healthcheck: true } });
    const s = svc(p, 'app');
    assert.deepEqual(s.restart, {
      condition: 'on-failure',
      delayMs: 5000,
      fixedDelay: true,
      maxAttempts: 3,
    });
    assert.deepEqual(s.healthcheck, {
      test: { kind: 'exec', argv: ['curl', '-f', 'http://localhost:8000/health'] },
      intervalMs: 30_000,
      timeoutMs: 3_000,
      retries: 3,
      startPeriodMs: 0,
      startIntervalMs: 5_000,
    });
    assert.deepEqual(p.warnings, []);
  });

  it('003-4: deploy.resources limits and reservations', async () => {
    const p = await load('003-4.yaml');
    assert.deepEqual(summaries(p), { app });
    assert.deepEqual(svc(p, 'app').resources, {
      limits: { cpus: 1, memoryBytes: 512 * 1024 * 1024 },
      reservations: { cpus: 0.5, memoryBytes: 256 * 1024 * 1024 },
    });
    assert.deepEqual(p.warnings, []);
  });
});

// The seeds are scraped web pages: seeds 000, 001 and 003 lost their indentation. The fixtures
// restore it; the text as scraped must still fail with a clear error, not a crash.
describe('seed text as scraped (not fixtures)', () => {
  async function problems(text: string): Promise<string[]> {
    const dir = tempDir('seed');
    await writeFile(path.join(dir, 'compose.yaml'), text);
    try {
      await loadProject({ cwd: dir, env: {} });
    } catch (err) {
      assert.ok(err instanceof ComposeError, `expected ComposeError, got ${String(err)}`);
      return err.message.split('\n').map((l) => l.trim());
    }
    assert.fail('expected the load to fail');
  }

  it('seed 000 line 14 without indentation: duplicate keys reported as invalid YAML', async () => {
    const text = [
      'services:',
      'nginx:',
      'image: nginx:latest',
      'ports:',
      '- "8080:80"',
      'volumes:',
      '- ./nginx.conf:/etc/nginx/conf.d/default.conf',
      'web:',
      'image: python:slim',
      'command: python /app/app.py',
      'volumes:',
      '- ./app.py:/app/app.py',
      'working_dir: /app',
      '',
    ].join('\n');
    assert.deepEqual(await problems(text), [
      '2 problems in the compose file(s):',
      // Each repeated key where it is (`image` on line 9, `volumes` on line 11).
      'compose.yaml:9:1: invalid YAML: Map keys must be unique',
      'compose.yaml:11:1: invalid YAML: Map keys must be unique',
    ]);
  });

  it('seed 001 line 20 without indentation: service keys reported as unknown top-level keys', async () => {
    const text = 'services:\napi:\nports:\n- "8080:80" # Host:Container\n';
    const lines = await problems(text);
    assert.equal(lines[0], '2 problems in the compose file(s):');
    assert.ok(lines[1]?.startsWith('compose.yaml:2:1: api: unknown key; expected one of: '));
    assert.ok(lines[2]?.startsWith('compose.yaml:3:1: ports: unknown key; expected one of: '));
  });
});
