// Secrets and configs for process replicas. A process has no /run/secrets of its own, so each
// start writes the service's secrets and configs as files into a fresh folder under the replica
// state dir (`<state>/files/<replica>-XXXXXX/{secrets,configs}/<name>`, 0700, secrets 0400) and
// tells the replica where they are:
//   - `<NAME>_FILE` for each one, NAME being its name upper-cased with `_` for other characters
//     (secret `db_password` → DB_PASSWORD_FILE), unless the service sets that variable itself;
//   - a variable of the service whose value is a container path of one of them
//     (`POSTGRES_PASSWORD_FILE: /run/secrets/db_password`) points at the file instead.
// The folder goes when the replica exits.
import { chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Project } from '../../compose/model.ts';
import { envName } from '../env.ts';
import { fileBytes, givenFiles, modeFor, type GivenFile } from '../files.ts';
import type { ReplicaHandle, ReplicaSpec, Runtime } from '../types.ts';

/** `inner` with the service's secrets and configs written for each replica it starts. */
export function withGivenFiles(
  inner: Runtime,
  project: () => Project,
  root: string | undefined,
): Runtime {
  return {
    kind: inner.kind,
    async start(spec: ReplicaSpec): Promise<ReplicaHandle> {
      const p = project();
      const service = p.services[spec.service];
      const files = service ? givenFiles(p, service) : [];
      if (files.length === 0) return inner.start(spec);
      const dir = writeFiles(root ?? defaultRoot(), spec, files);
      const env = envWithFiles(spec.env, service!.environment, files, dir);
      const handle = await inner.start({ ...spec, env });
      void handle.exited.then(() => rmSync(dir, { recursive: true, force: true }));
      return handle;
    },
    ...(inner.adopt ? { adopt: inner.adopt.bind(inner) } : {}),
  };
}

let tmpRoot: string | undefined;
/** Without a state dir (a runtime used on its own): one private folder for this herd process. */
function defaultRoot(): string {
  tmpRoot ??= mkdtempSync(path.join(tmpdir(), 'herd-files-'));
  return tmpRoot;
}

function writeFiles(root: string, spec: ReplicaSpec, files: GivenFile[]): string {
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const dir = mkdtempSync(path.join(root, `${spec.name}-`));
  // A replica that runs as another user must be able to enter its folder and read its files.
  const owner = ownerFor(spec);
  try {
    for (const kind of ['secrets', 'configs'] as const) {
      if (!files.some((f) => f.kind === kind)) continue;
      mkdirSync(path.join(dir, kind), { mode: 0o700 });
      if (owner) chownSync(path.join(dir, kind), owner.uid, owner.gid);
    }
    if (owner) chownSync(dir, owner.uid, owner.gid);
    for (const f of files) {
      const file = filePath(dir, f);
      writeFileSync(file, fileBytes(f, spec.service), { mode: modeFor(f, false) });
      if (owner) chownSync(file, owner.uid, owner.gid);
    }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return dir;
}

function ownerFor(spec: ReplicaSpec): { uid: number; gid: number } | undefined {
  const me = process.getuid?.();
  if (me !== 0 || spec.uid === undefined || spec.uid === me) return undefined;
  return { uid: spec.uid, gid: spec.gid ?? spec.uid };
}

function filePath(dir: string, f: GivenFile): string {
  return path.join(dir, f.kind, f.mount.source);
}

export function envWithFiles(
  env: Record<string, string>,
  own: Record<string, string>,
  files: GivenFile[],
  dir: string,
): Record<string, string> {
  const out = { ...env };
  const byTarget = new Map(files.map((f) => [f.mount.target, filePath(dir, f)]));
  for (const [k, v] of Object.entries(own)) {
    const file = byTarget.get(v);
    if (file !== undefined) out[k] = file;
  }
  for (const f of files) {
    const name = `${envName(f.mount.source)}_FILE`;
    if (own[name] === undefined) out[name] = filePath(dir, f);
  }
  return out;
}
