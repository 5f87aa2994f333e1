// Packs a build context folder into the tar stream the Engine API's /build expects, honouring
// .dockerignore, and carrying a Dockerfile that lives outside the context under a private name.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import tarFs from 'tar-fs';
import { HerdError } from '../../util/errors.ts';
import { isIgnored, parseDockerignore } from './dockerignore.ts';

export interface PackedContext {
  stream: Readable;
  /** The Dockerfile's path inside the tar, as /build's `dockerfile` parameter wants it. */
  dockerfile: string;
}

export function packContext(contextDir: string, dockerfile = 'Dockerfile'): PackedContext {
  const context = resolve(contextDir);
  if (!existsSync(context) || !statSync(context).isDirectory()) {
    throw new HerdError(
      `build context ${context} is not a folder; check build.context in the compose file`,
    );
  }
  const dockerfilePath = isAbsolute(dockerfile) ? dockerfile : resolve(context, dockerfile);
  if (!existsSync(dockerfilePath)) {
    throw new HerdError(
      `Dockerfile ${dockerfilePath} not found; check build.dockerfile in the compose file`,
    );
  }
  const relDockerfile = relative(context, dockerfilePath);
  const inside =
    relDockerfile !== '' && !relDockerfile.startsWith('..') && !isAbsolute(relDockerfile);
  const ignoreFile = resolve(context, '.dockerignore');
  const rules = existsSync(ignoreFile) ? parseDockerignore(readFileSync(ignoreFile, 'utf8')) : [];
  const keep = new Set(['.dockerignore', inside ? toSlash(relDockerfile) : '']);

  const outsideName = '.herd-dockerfile';
  const stream = tarFs.pack(context, {
    ignore: (name: string) => {
      const rel = toSlash(relative(context, name));
      return rel !== '' && !keep.has(rel) && isIgnored(rules, rel);
    },
    finalize: inside,
    finish: inside
      ? undefined
      : (pack) => {
          const body = readFileSync(dockerfilePath);
          pack.entry({ name: outsideName, size: body.length, mode: 0o644 }, body, () =>
            pack.finalize(),
          );
        },
  });
  return { stream, dockerfile: inside ? toSlash(relDockerfile) : outsideName };
}

function toSlash(p: string): string {
  return sep === '/' ? p : p.split(sep).join('/');
}
