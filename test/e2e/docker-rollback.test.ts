// Issue 14 for a Docker service: changing web's image to a tag whose containers exit a second
// after they start is rolled back to the image that worked, through the herd binary against the
// test dockerd; the balancer loses no request meanwhile.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildImage } from '../../src/runtime/docker/build.ts';
import { dockerBox } from '../helpers/docker-box.ts';
import { NODE_IMAGE } from '../helpers/docker-images.ts';
import { freePort, waitFor } from '../helpers/e2e.ts';
import { tempDir } from '../helpers/tmp.ts';

// busybox's wget, not a node per check: a loaded machine takes seconds to start node.
const CRASH_IMAGE = 'herd-test/node:crashes';

function compose(image: string, port: number): string {
  return `  web:
    image: ${image}
    ports: ["127.0.0.1:${port}:8080"]
    scale: 2
    stop_grace_period: 2s
    restart: unless-stopped
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"]
      interval: 1s
      timeout: 5s
      retries: 3
    deploy:
      update_config: { failure_action: rollback, monitor: 5s, order: start-first }
`;
}

test('a Docker service whose new image tag does not stay up is rolled back to the old image', async () => {
  const port = await freePort();
  const { docker, project, box, cleanup } = await dockerBox('rollback', (image) =>
    compose(image, port),
  );
  // The node test image, but its app exits 1 s after it starts (answering until then).
  const ctx = tempDir('crash-image');
  writeFileSync(
    join(ctx, 'Dockerfile'),
    `FROM ${NODE_IMAGE}\nCMD ["node", "-e", "require('/app/app.mjs'); setTimeout(() => { console.error('crashes: bad build'); process.exit(1); }, 1000)"]\n`,
  );
  await buildImage(docker, { context: ctx, tag: CRASH_IMAGE });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let failed = 0;
  let ok = 0;
  let probing = true;
  /** How each lost request failed, and when, for the assertion's message. */
  const failures: string[] = [];
  const fail = (why: string) => {
    failed++;
    failures.push(`${new Date().toISOString()} ${why}`);
  };
  const get = () =>
    new Promise<void>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => {
          if (res.statusCode === 200) ok++;
          else fail(`HTTP ${res.statusCode}: ${body.slice(0, 200)}`);
          resolve();
        });
      });
      req.setTimeout(3000, () => req.destroy(new Error('timeout')));
      req.on('error', (err) => (fail(err.message), resolve()));
    });
  try {
    const first = box.herd(['up', '-d', '--wait', '--wait-timeout', '90'], { timeoutMs: 120_000 });
    assert.equal(first.status, 0, `${first.stdout}${first.stderr}${box.herd(['ps', '-a']).stdout}`);
    const before = box.ps(false).map((r) => r.Pid);
    const loop = (async () => {
      while (probing) await get();
    })();
    writeFileSync(
      join(box.dir, 'compose.yaml'),
      `name: ${project}\nservices:\n${compose(CRASH_IMAGE, port)}`,
    );
    const events = box.spawn(['events']);
    const up = await box.run(['up', '-d']);
    await events.stop();
    const story = `${up.stderr}\n${events.output()}`;
    assert.notEqual(up.status, 0, up.stdout + up.stderr);
    assert.match(
      up.stderr,
      /rolled back to the previous definition: web-1's new replica exited (within the 5s monitor|before it was ready|before it took over)/,
    );
    assert.match(up.stderr, /crashes: bad build/, story);
    await waitFor(
      'both on the old image and healthy',
      async () => {
        const rows = box.ps(false);
        if (rows.length !== 2 || !rows.every((r) => r.Health === 'healthy')) return false;
        const images = await Promise.all(
          rows.map(async (r) => (await docker.getContainer(r.Name).inspect()).Config.Image),
        );
        return images.every((i) => i === NODE_IMAGE);
      },
      40_000,
    );
    probing = false;
    await loop;
    assert.ok(
      box.ps(false).some((r) => before.includes(r.Pid)),
      'web-2 never changed',
    );
    assert.ok(ok > 0);
    assert.equal(
      failed,
      0,
      `requests lost during the failed update (${ok} answered): ${failures.join('; ')}\n${story}`,
    );
  } finally {
    probing = false;
    agent.destroy();
    await cleanup();
  }
});
