// A Docker registry (the v2 HTTP API, read-only) on 127.0.0.1 serving one tiny image, so that
// `herd pull` can be tested against a real engine with no network: the engine takes a registry
// on 127.0.0.0/8 for an insecure one and talks plain HTTP to it.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { tempDir } from './tmp.ts';

export interface TinyRegistry {
  /** host:port, the prefix of the image names it serves. */
  host: string;
  /** `${host}/${repo}:${tag}`, the one image there is. */
  image: string;
  /** The request lines it answered ("GET /v2/…"), in order. */
  requests: string[];
  close(): Promise<void>;
}

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** One layer holding /hello (`content`), as a gzipped tar and the digest of the plain one. */
function layer(content: string): { gz: Buffer; diffId: string } {
  const dir = tempDir('registry-layer');
  mkdirSync(join(dir, 'root'));
  writeFileSync(join(dir, 'root', 'hello'), content);
  const tar = spawnSync('tar', ['-cf', '-', '-C', join(dir, 'root'), 'hello'], {
    maxBuffer: 1 << 20,
  });
  if (tar.status !== 0) throw new Error(`tar failed: ${tar.stderr.toString()}`);
  return { gz: gzipSync(tar.stdout), diffId: sha256(tar.stdout) };
}

export async function tinyRegistry(repo: string, tag: string): Promise<TinyRegistry> {
  const { gz, diffId } = layer(`${repo}:${tag}\n`);
  const config = Buffer.from(
    JSON.stringify({
      architecture: process.arch === 'x64' ? 'amd64' : process.arch,
      os: 'linux',
      config: { Cmd: ['/hello'], Labels: { 'dev.herd.test': 'pulled' } },
      rootfs: { type: 'layers', diff_ids: [diffId] },
      history: [{ created: '2024-01-01T00:00:00Z', created_by: 'tiny-registry' }],
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: {
        mediaType: 'application/vnd.docker.container.image.v1+json',
        size: config.length,
        digest: sha256(config),
      },
      layers: [
        {
          mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
          size: gz.length,
          digest: sha256(gz),
        },
      ],
    }),
  );
  const blobs = new Map([
    [sha256(config), config],
    [sha256(gz), gz],
  ]);
  const manifests = new Map([
    [tag, manifest],
    [sha256(manifest), manifest],
  ]);
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
    const send = (body: Buffer, type: string) => {
      res.writeHead(200, {
        'Content-Type': type,
        'Content-Length': body.length,
        'Docker-Content-Digest': sha256(body),
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const url = req.url ?? '';
    if (url === '/v2/' || url === '/v2') return send(Buffer.from('{}'), 'application/json');
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(url);
    const found =
      m?.[1] === repo
        ? m[2] === 'manifests'
          ? manifests.get(decodeURIComponent(m[3]!))
          : blobs.get(decodeURIComponent(m[3]!))
        : undefined;
    if (found && m?.[2] === 'manifests')
      return send(found, 'application/vnd.docker.distribution.manifest.v2+json');
    if (found) return send(found, 'application/octet-stream');
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'unknown' }] }));
  });
  // The engine tries TLS first: a ClientHello is a bad request here, and it falls back to HTTP.
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    image: `${host}/${repo}:${tag}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
