// The exports run for real: `podman kube play` runs the Deployment herd writes (with the ConfigMap
// its env_file went to) from an image made here with `podman import` (no registry is
// reachable), and the app inside answers with the environment the compose file gave it; Debian's
// docker-compose (and Docker's own stack loader, where it works offline) accepts the Swarm file.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parseAllDocuments, stringify } from 'yaml';
import { HERD } from '../helpers/e2e.ts';
import { nodeContext } from '../helpers/docker-images.ts';
import { runEnv } from '../helpers/run-env.ts';
import { tempDir } from '../helpers/tmp.ts';

const run = promisify(execFile);
const IMAGE = `localhost/herd-convert-test:${process.pid}`;
const SERVICE = `web${process.pid}`;
const APP = `require('http').createServer((q, s) => s.end(['pod', process.env.MODE, process.env.LEVEL].join(' '))).listen(5000);`;
const ASK = `require('http').get('http://127.0.0.1:5000', (r) => r.pipe(process.stdout)).on('error', () => process.exit(1))`;

async function herd(cwd: string, ...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [HERD, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...runEnv() },
  });
}

/** The objects podman kube play runs on one machine: Deployments and what their pods read. */
function playable(dir: string): string {
  const keep = readdirSync(dir)
    .flatMap((f) => parseAllDocuments(readFileSync(path.join(dir, f), 'utf8')).map((d) => d.toJS()))
    .filter((o) => ['Deployment', 'ConfigMap', 'Secret'].includes(o.kind));
  return keep.map((o) => stringify(o)).join('---\n');
}

describe('herd convert: the output runs', () => {
  let play: string | undefined;

  before(async () => {
    // The host's node and its libraries, plus the app: a root filesystem for `podman import`.
    const ctx = nodeContext();
    const rootfs = path.join(ctx, 'rootfs');
    writeFileSync(path.join(rootfs, 'app.js'), APP);
    await run('tar', ['-C', rootfs, '-cf', path.join(ctx, 'rootfs.tar'), '.']);
    await run('podman', ['import', path.join(ctx, 'rootfs.tar'), IMAGE]);
  });

  after(async () => {
    if (play) await run('podman', ['kube', 'play', '--down', play]).catch(() => undefined);
    await run('podman', ['rmi', '-f', IMAGE]).catch(() => undefined);
  });

  // Not a credential: Debian's podman 4.3 stores a Secret of the file as YAML and then fails to read it
  // as JSON, so a pod with a secretRef cannot start there (the Secret's schema is checked in unit tests).
  it('podman kube play runs the Deployment, with its env and env_file (a ConfigMap)', async () => {
    const dir = tempDir('convert-podman');
    writeFileSync(path.join(dir, 'app.env'), 'LEVEL=debug\n');
    writeFileSync(
      path.join(dir, 'compose.yaml'),
      `
name: convpod
services:
  ${SERVICE}:
    image: ${IMAGE}
    command: ["/usr/bin/node", "/app.js"]
    ports: ["8080:5000"]
    env_file: app.env
    environment: { MODE: prod }
    healthcheck: { test: ["CMD", "/usr/bin/node", "-e", "0"], interval: 2s }
`,
    );
    const out = await herd(dir, 'convert', '--to', 'kubernetes', '-o', 'k8s');
    assert.match(out.stderr, /objects written to k8s/);
    const kinds = readdirSync(path.join(dir, 'k8s')).sort();
    assert.deepEqual(kinds, [
      `${SERVICE}-deployment.yaml`,
      `${SERVICE}-env-configmap.yaml`,
      `${SERVICE}-service.yaml`,
    ]);
    play = path.join(dir, 'play.yaml');
    writeFileSync(play, playable(path.join(dir, 'k8s')));
    await run('podman', ['kube', 'play', play], { timeout: 120_000 });
    let answer = '';
    for (let i = 0; i < 60 && answer === ''; i++) {
      const ps = await run('podman', ['ps', '--format', '{{.Names}}']);
      const name = ps.stdout.split('\n').find((n) => n.includes(SERVICE) && !n.endsWith('-infra'));
      if (name)
        answer = await run('podman', ['exec', name, '/usr/bin/node', '-e', ASK], {
          timeout: 10_000,
        })
          .then((r) => r.stdout)
          .catch(() => '');
      if (answer === '') await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(answer, 'pod prod debug');
  });

  it('docker-compose and Docker accept the Swarm stack file', async () => {
    const dir = tempDir('convert-swarm');
    writeFileSync(
      path.join(dir, 'compose.yaml'),
      `
name: convswarm
services:
  web:
    image: example/web:1.0
    ports: ["8080:5000"]
    environment: { PRICE: "$$5" }
    healthcheck: { test: ["CMD", "curl", "-f", "http://localhost:5000/health"], interval: 10s, start_period: 5s }
    deploy: { replicas: 3, resources: { limits: { memory: 512M, cpus: "0.5" } }, update_config: { parallelism: 1, order: start-first }, rollback_config: { parallelism: 2 } }
    depends_on: { redis: { condition: service_healthy } }
    x-herd: { autoscale: { min: 2, max: 10, cpu: 70 } }
  redis:
    image: redis:7
    expose: ["6379"]
    restart: always
`,
    );
    const out = await herd(dir, 'convert', '--to', 'swarm', '-o', 'stack.yaml');
    assert.match(out.stderr, /x-herd\.autoscale: not converted: Swarm has no autoscaling/);
    // Read where nothing else is: no compose.yaml or .env beside it.
    const alone = tempDir('convert-stack');
    copyFileSync(path.join(dir, 'stack.yaml'), path.join(alone, 'stack.yaml'));
    await run('docker-compose', ['-f', 'stack.yaml', 'config', '-q'], { cwd: alone });
    const config = await run('docker-compose', ['-f', 'stack.yaml', 'config'], { cwd: alone });
    assert.match(config.stdout, /replicas: 3/);
    assert.match(config.stdout, /PRICE: \$\$5/);
    const offline = { ...process.env, DOCKER_HOST: 'unix:///nonexistent' };
    const hasStackConfig = await run('docker', ['stack', 'config', '--help'], {
      env: offline,
    }).then(
      () => true,
      () => false,
    );
    if (hasStackConfig) {
      const stack = await run('docker', ['stack', 'config', '-c', 'stack.yaml'], {
        cwd: alone,
        env: offline,
      });
      assert.match(stack.stdout, /replicas: 3/);
    }
  });
});
