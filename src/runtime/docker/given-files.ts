// Secrets and configs in containers, as Compose provides them outside Swarm: one from a host
// `file:` is bind-mounted read-only at its target (/run/secrets/<name>, or /<name> for a config);
// one whose text comes from the environment or `content:` is copied into the container before it
// starts (a tar archive put at /), with its mode, uid and gid.
import path from 'node:path';
import type { MountSettings } from 'dockerode';
import type { Project, Service } from '../../compose/model.ts';
import { fileBytes, givenFiles, modeFor, type GivenFile } from '../files.ts';

export function fileMounts(project: Project, service: Service): MountSettings[] {
  return givenFiles(project, service)
    .filter((f) => f.source.file !== undefined)
    .map((f) => ({ Type: 'bind', Source: f.source.file!, Target: f.mount.target, ReadOnly: true }));
}

/** The files that are copied in, as one tar archive; undefined when there are none. */
export function contentArchive(project: Project, service: Service): Buffer | undefined {
  const copied = givenFiles(project, service).filter((f) => f.source.file === undefined);
  if (copied.length === 0) return undefined;
  const parts: Buffer[] = [];
  const dirs = new Set<string>();
  for (const f of copied) {
    // Parent folders first, so the engine creates them with a usable mode.
    const rel = f.mount.target.replace(/^\/+/, '');
    for (let d = path.posix.dirname(rel); d !== '.' && !dirs.has(d); d = path.posix.dirname(d)) {
      dirs.add(d);
    }
    parts.push(entry(rel, fileBytes(f, service.name), f));
  }
  const dirEntries = [...dirs].sort().map((d) => entry(`${d}/`, Buffer.alloc(0)));
  return Buffer.concat([...dirEntries, ...parts, Buffer.alloc(1024)]);
}

/** One ustar entry: a 512-byte header, then the data padded to 512 bytes. */
function entry(name: string, data: Buffer, f?: GivenFile): Buffer {
  const h = Buffer.alloc(512);
  const isDir = name.endsWith('/');
  const field = (off: number, len: number, value: string) => h.write(value, off, len, 'utf8');
  const octal = (off: number, len: number, n: number) =>
    field(off, len, n.toString(8).padStart(len - 1, '0') + '\0');
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', name.length - 2);
    field(345, 155, name.slice(0, cut));
    field(0, 100, name.slice(cut + 1));
  } else field(0, 100, name);
  octal(100, 8, isDir ? 0o755 : modeFor(f!, true));
  octal(108, 8, numericId(f?.mount.uid));
  octal(116, 8, numericId(f?.mount.gid));
  octal(124, 12, data.length);
  octal(136, 12, Math.floor(Date.now() / 1000));
  field(156, 1, isDir ? '5' : '0');
  field(257, 8, 'ustar\u000000');
  // The checksum is taken with its own field read as spaces.
  h.fill(' ', 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  field(148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  const pad = (512 - (data.length % 512)) % 512;
  return Buffer.concat([h, data, Buffer.alloc(pad)]);
}

function numericId(id: string | undefined): number {
  return id !== undefined && /^\d+$/.test(id) ? Number(id) : 0;
}
