// Images from local files through the Engine API: build args, targets, .dockerignore, a
// Dockerfile outside the context, failing builds, and pulls with no registry to answer.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type Dockerode from 'dockerode';
import { buildImage, ensureImage, pullImage } from '../../src/runtime/docker/build.ts';
import { DockerRuntime } from '../../src/runtime/docker/runtime.ts';
import { HerdError } from '../../src/util/errors.ts';
import { ensureDockerd } from '../helpers/dockerd.ts';
import { busyboxContext, ensureNodeImage, NODE_IMAGE } from '../helpers/docker-images.ts';
import { specFor, testProject, testService, uniqueProjectName } from '../helpers/docker-project.ts';
import { tempDir } from '../helpers/tmp.ts';

let docker: Dockerode;
const project = uniqueProjectName('herdbuild');
const tags: string[] = [];
const dirs: string[] = [];

/** Runs `command` in `image` through the runtime and returns its stdout lines and exit code. */
async function runIn(
  image: string,
  command: string[],
): Promise<{ lines: string[]; exitCode: number }> {
  const p = testProject(project, [testService('probe', { image, command })]);
  const runtime = new DockerRuntime({ docker, project: p });
  try {
    const handle = await runtime.start(specFor(p, 'probe'));
    const lines: string[] = [];
    handle.onOutput((stream, line) => stream === 'stdout' && lines.push(line));
    const exit = await handle.exited;
    return { lines, exitCode: exit.exitCode };
  } finally {
    runtime.close();
  }
}

before(async () => {
  ({ docker } = await ensureDockerd());
});

after(async () => {
  const p = testProject(project, []);
  await new DockerRuntime({ docker, project: p }).removeProject();
  for (const tag of tags)
    await docker
      .getImage(tag)
      .remove({ force: true })
      .catch(() => {});
  // Images replaced by a rebuild lose their tag but keep herd's project label.
  await docker.pruneImages({
    filters: { dangling: ['true'], label: [`dev.herd.project=${project}`] },
  });
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('buildImage', () => {
  it('builds a FROM scratch busybox image with build args, reporting progress', async () => {
    const context = busyboxContext();
    dirs.push(context);
    const tag = `${project}-busybox:latest`;
    tags.push(tag);
    const progress: string[] = [];
    const id = await buildImage(docker, {
      context,
      tag,
      args: { GREETING: 'built-with-args' },
      onProgress: (line) => progress.push(line),
    });
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    assert.ok(
      progress.some((l) => /Step 1\/\d+ : FROM scratch/.test(l)),
      progress.join('\n'),
    );
    const run = await runIn(tag, ['cat', '/etc/greeting']);
    assert.deepEqual(run, { lines: ['built-with-args'], exitCode: 0 });
  });

  it('builds the node image whose binary runs in a container', async () => {
    await ensureNodeImage(docker);
    const run = await runIn(NODE_IMAGE, ['node', '-e', 'console.log(process.version)']);
    assert.deepEqual(run, { lines: [process.version], exitCode: 0 });
  });

  it('honours target, .dockerignore and a Dockerfile outside the context', async () => {
    const root = tempDir('build');
    dirs.push(root);
    const context = join(root, 'ctx');
    mkdirSync(join(context, 'secrets'), { recursive: true });
    copyFileSync('/bin/busybox', join(context, 'busybox'));
    writeFileSync(join(context, 'kept.txt'), 'kept\n');
    writeFileSync(join(context, 'secrets', 'token'), 'do not ship\n');
    writeFileSync(join(context, 'notes.log'), 'log\n');
    writeFileSync(join(context, '.dockerignore'), '# local only\nsecrets\n*.log\n');
    writeFileSync(
      join(root, 'build.Dockerfile'),
      [
        'FROM scratch AS base',
        'COPY busybox /bin/busybox',
        'COPY . /ctx/',
        'CMD ["/bin/busybox", "ls", "/ctx"]',
        'FROM base AS extra',
        'CMD ["/bin/busybox", "echo", "wrong stage"]',
      ].join('\n'),
    );
    const tag = `${project}-targeted:latest`;
    tags.push(tag);
    await buildImage(docker, {
      context,
      dockerfile: join(root, 'build.Dockerfile'),
      target: 'base',
      tag,
    });
    const run = await runIn(tag, []);
    assert.equal(run.exitCode, 0);
    // The engine itself drops .dockerignore and the Dockerfile from the context it keeps.
    const files = run.lines.filter((f) => f !== '.dockerignore' && f !== '.herd-dockerfile').sort();
    assert.deepEqual(files, ['busybox', 'kept.txt']);
  });

  it('fails a broken build with the engine message and the image name', async () => {
    const context = tempDir('build-bad');
    dirs.push(context);
    writeFileSync(join(context, 'Dockerfile'), 'FROM scratch\nCOPY not-there.txt /x\n');
    await assert.rejects(
      buildImage(docker, { context, tag: `${project}-broken:latest` }),
      (err: unknown) =>
        err instanceof HerdError &&
        err.message.includes(`building image ${project}-broken:latest`) &&
        /not-there\.txt/.test(err.message),
    );
  });

  it('says where the context is when it does not exist', async () => {
    await assert.rejects(
      () => buildImage(docker, { context: '/nonexistent/herd-context', tag: 'x' }),
      (err: unknown) =>
        err instanceof HerdError && /\/nonexistent\/herd-context is not a folder/.test(err.message),
    );
  });
});

describe('services with build:', () => {
  it('start() builds <project>-<service> from the build section, reporting progress per service', async () => {
    const context = busyboxContext();
    dirs.push(context);
    const service = testService('built', {
      build: { context, args: { GREETING: 'from-build-section' } },
      command: ['cat', '/etc/greeting'],
    });
    const p = testProject(project, [service]);
    const progress: Array<[string, string]> = [];
    const runtime = new DockerRuntime({
      docker,
      project: p,
      onProgress: (s, line) => progress.push([s, line]),
    });
    tags.push(`${project}-built`);
    try {
      const handle = await runtime.start(specFor(p, 'built'));
      const lines: string[] = [];
      handle.onOutput((_s, line) => lines.push(line));
      assert.equal((await handle.exited).exitCode, 0);
      assert.deepEqual(lines, ['from-build-section']);
      assert.ok(progress.length > 0 && progress.every(([s]) => s === 'built'));
      assert.ok(
        progress.some(([, l]) => /Successfully tagged herdbuild[0-9a-f]+-built:latest/.test(l)),
      );

      // An existing image is reused; prepare({ build: true }) rebuilds it with the current args.
      service.build!.args.GREETING = 'rebuilt';
      progress.length = 0;
      await runtime.prepare(['built']);
      assert.deepEqual(progress, [], 'nothing rebuilt without build: true');
      await runtime.prepare(['built'], { build: true });
      const again = await runtime.start(specFor(p, 'built'));
      const after: string[] = [];
      again.onOutput((_s, line) => after.push(line));
      await again.exited;
      assert.deepEqual(after, ['rebuilt']);
    } finally {
      runtime.close();
    }
  });
});

describe('pulling with no registry', () => {
  const missing = 'herd-test/definitely-not-local:1.0';

  it('pullImage names the image and says to build it locally', async () => {
    await assert.rejects(
      pullImage(docker, missing),
      (err: unknown) =>
        err instanceof HerdError &&
        err.message.startsWith(`pulling image ${missing} failed:`) &&
        /No registry answered/.test(err.message) &&
        /build it locally/.test(err.message),
    );
  });

  it('ensureImage reports that it is pulling before failing', async () => {
    const progress: string[] = [];
    await assert.rejects(
      ensureImage(docker, missing, (l) => progress.push(l)),
      HerdError,
    );
    assert.deepEqual(progress, [`image ${missing} not found locally, pulling`]);
  });

  it('a service on a missing image fails prepare(), and start() hands back a start error', async () => {
    const p = testProject(project, [testService('ghost', { image: missing })]);
    const runtime = new DockerRuntime({ docker, project: p });
    try {
      await assert.rejects(
        runtime.prepare(['ghost']),
        /pulling image herd-test\/definitely-not-local:1.0 failed/,
      );
      const handle = await runtime.start(specFor(p, 'ghost'));
      const exit = await handle.exited;
      assert.equal(exit.exitCode, -1);
      assert.match(exit.startError ?? '', /No registry answered/);
    } finally {
      runtime.close();
    }
  });
});
