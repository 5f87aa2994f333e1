// The secrets and configs a service is given (compose/secrets.ts), with their bytes: shared by the
// process runtime (files under the replica's state dir) and Docker (bind mounts and copies).
import { readFileSync, statSync } from 'node:fs';
import type { FileMount, FileObject, Project, Service } from '../compose/model.ts';
import { HerdError } from '../util/errors.ts';

export interface GivenFile {
  kind: 'secrets' | 'configs';
  mount: FileMount;
  source: FileObject;
}

/** A secret or config file larger than this is surely a mistake (Swarm's own limit is 500 KB). */
const MAX_FILE_BYTES = 4 * 1024 * 1024;

export function givenFiles(project: Project, service: Service): GivenFile[] {
  const out: GivenFile[] = [];
  for (const kind of ['secrets', 'configs'] as const) {
    for (const mount of service[kind] ?? []) {
      const source = project[kind]?.[mount.source];
      // The loader refuses undefined ones; a hand-built project may still lack one.
      if (!source)
        throw new HerdError(
          `service "${service.name}": ${kind.slice(0, -1)} "${mount.source}" is not defined`,
        );
      out.push({ kind, mount, source });
    }
  }
  return out;
}

/** The file's bytes: the host file's, or the text the compose file gave. */
export function fileBytes(f: GivenFile, service: string): Buffer {
  const what = `${f.kind.slice(0, -1)} "${f.mount.source}" of service "${service}"`;
  if (f.source.file === undefined) return Buffer.from(f.source.content ?? '', 'utf8');
  try {
    const st = statSync(f.source.file);
    if (!st.isFile()) throw new Error('not a regular file');
    if (st.size > MAX_FILE_BYTES) throw new Error(`larger than ${MAX_FILE_BYTES} bytes`);
    return readFileSync(f.source.file);
  } catch (err) {
    throw new HerdError(`cannot read ${what} from ${f.source.file}: ${(err as Error).message}`);
  }
}

/** Default file modes: a secret readable by its owner only for processes; Compose gives
 * containers 0444 (the container's user is often not root). */
export function modeFor(f: GivenFile, container: boolean): number {
  if (f.mount.mode !== undefined) return f.mount.mode;
  return f.kind === 'secrets' && !container ? 0o400 : 0o444;
}
