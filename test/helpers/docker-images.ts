// The test images, built from local files only (no registry is reachable in CI): a FROM scratch
// busybox image and one with the host's node binary. Rebuilt only when their inputs change.
import type Dockerode from 'dockerode';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildImage } from '../../src/runtime/docker/build.ts';
import { tempDir } from './tmp.ts';

const IMAGES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'images');
const FINGERPRINT = 'dev.herd.test.fingerprint';
const BUSYBOX = '/bin/busybox';
/** Applets linked in the node image (the busybox image installs all of them at build time). */
const NODE_IMAGE_APPLETS = ['sh', 'wget', 'cat', 'sleep', 'nc', 'hostname'];

export const BUSYBOX_IMAGE = 'herd-test/busybox:latest';
export const NODE_IMAGE = 'herd-test/node:latest';

/** Copies the busybox Dockerfile and /bin/busybox into a fresh build context folder. */
export function busyboxContext(): string {
  const dir = tempDir('bb-ctx');
  copyFileSync(join(IMAGES_DIR, 'busybox', 'Dockerfile'), join(dir, 'Dockerfile'));
  copyFileSync(BUSYBOX, join(dir, 'busybox'));
  return dir;
}

/** The node binary and every library `ldd` lists, at their host paths, under rootfs/. */
export function nodeContext(): string {
  const dir = tempDir('node-ctx');
  const rootfs = join(dir, 'rootfs');
  const put = (hostPath: string, imagePath = hostPath) => {
    mkdirSync(join(rootfs, dirname(imagePath)), { recursive: true });
    copyFileSync(hostPath, join(rootfs, imagePath));
  };
  put(process.execPath, '/usr/bin/node');
  for (const lib of sharedLibraries(process.execPath)) put(lib);
  put(BUSYBOX, '/bin/busybox');
  for (const applet of NODE_IMAGE_APPLETS) symlinkSync('busybox', join(rootfs, 'bin', applet));
  mkdirSync(join(rootfs, 'tmp'), { recursive: true });
  copyFileSync(join(IMAGES_DIR, 'node', 'Dockerfile'), join(dir, 'Dockerfile'));
  copyFileSync(join(IMAGES_DIR, 'node', 'app.mjs'), join(dir, 'app.mjs'));
  return dir;
}

/** Absolute paths of the shared libraries (and the loader) a binary needs, from `ldd`. */
export function sharedLibraries(binary: string): string[] {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  const libs = new Set<string>();
  for (const line of out.split('\n')) {
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m?.[1]) libs.add(m[1]);
  }
  return [...libs];
}

export function ensureBusyboxImage(docker: Dockerode): Promise<string> {
  return ensureTestImage(
    docker,
    BUSYBOX_IMAGE,
    [join(IMAGES_DIR, 'busybox', 'Dockerfile'), BUSYBOX],
    busyboxContext,
  );
}

export function ensureNodeImage(docker: Dockerode): Promise<string> {
  const inputs = [
    join(IMAGES_DIR, 'node', 'Dockerfile'),
    join(IMAGES_DIR, 'node', 'app.mjs'),
    process.execPath,
    BUSYBOX,
  ];
  return ensureTestImage(docker, NODE_IMAGE, inputs, nodeContext);
}

async function ensureTestImage(
  docker: Dockerode,
  tag: string,
  inputs: string[],
  makeContext: () => string,
): Promise<string> {
  const fingerprint = fingerprintOf(inputs);
  try {
    const info = await docker.getImage(tag).inspect();
    if (info.Config.Labels?.[FINGERPRINT] === fingerprint) return tag;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw err;
  }
  const context = makeContext();
  try {
    await buildImage(docker, { context, tag, labels: { [FINGERPRINT]: fingerprint } });
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
  return tag;
}

/** Small files by content, big binaries by path, size and mtime (hashing node's 100 MB is slow). */
function fingerprintOf(paths: string[]): string {
  const hash = createHash('sha256');
  for (const p of paths) {
    const st = statSync(p);
    hash.update(p);
    if (st.size < 1_000_000) hash.update(readFileSync(p));
    else hash.update(`${st.size}:${st.mtimeMs}`);
  }
  return hash.digest('hex').slice(0, 16);
}
