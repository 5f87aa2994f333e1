// A process replica's stdout and stderr go to files (`<dir>/<name>.out`, `.err`) that the replica
// holds open, not to pipes the daemon holds: a daemon that dies (kill -9) breaks nothing the
// replica writes to (no EPIPE, no SIGPIPE), nothing is lost while no daemon runs, and the next
// daemon, adopting the replica, tails the same files from where the last one stopped
// (`<name>.pos`, the byte offsets already emitted).
//
// The tail wakes on inotify (one directory watch shared by every tail of the directory, so one
// kernel watch however many replicas) plus a slow poll for events inotify can miss (a watch that
// could not be had, an overflowed queue). Each wake-up reads a bounded amount and yields to the
// event loop before reading more: a replica printing flat out cannot stall the daemon.
//
// Line order within a stream is kept. Between stdout and stderr it cannot be, exactly: two files
// do not record which write came first (Docker's json-file logger loses it the same way). Each
// wake-up reads both streams in small alternating chunks, so the two stay as close as the reads
// allow.
import {
  closeSync,
  constants,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  watch,
  writeFileSync,
  type FSWatcher,
} from 'node:fs';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { OutputStream } from '../types.ts';
import { LineSplitter } from './lines.ts';

/** How often the read position is written while output flows (the most a crash re-emits). */
export const POSITION_EVERY_MS = 250;
/** The safety poll, for wake-ups inotify did not deliver. */
const POLL_MS = 1000;
/** One read, per stream in turn (small enough to keep stdout and stderr close together). */
const CHUNK = 32 * 1024;
/** Read per wake-up before yielding to the event loop: this many bytes, or for this long (what
 * the lines cost downstream, e.g. the log store's writes, counts too). */
const BUDGET = 256 * 1024;
const TURN_MS = 10;
/** Output read and persisted is given back to the disk in steps of this much (a hole punched at
 * the start of the file: offsets stay as they are, the replica's appends too), so a replica that
 * logs for months does not fill the disk with what the log store already holds. */
const RECLAIM_BYTES = 64 * 1024 * 1024;
const PAGE = 4096;

const STREAMS = ['stdout', 'stderr'] as const;
const SUFFIX: Record<OutputStream, string> = { stdout: '.out', stderr: '.err' };
const POSITION = '.pos';
const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;

export type OutputEmit = (stream: OutputStream, line: string) => void;

export interface OutputTailOptions {
  /** Continue after what an earlier tail (an earlier daemon) persisted in `<name>.pos`. */
  resume?: boolean;
  /** Give the disk back what was read in steps of this many bytes (default 64 MiB; tests). */
  reclaimBytes?: number;
}

/** Read positions, in bytes, as persisted in `<name>.pos`. */
export interface OutputPosition {
  stdout: number;
  stderr: number;
}

/** The capture files of replica `name` under `dir`. */
export function captureFiles(
  dir: string,
  name: string,
): { stdout: string; stderr: string; position: string } {
  checkName(name);
  return {
    stdout: join(dir, name + SUFFIX.stdout),
    stderr: join(dir, name + SUFFIX.stderr),
    position: join(dir, name + POSITION),
  };
}

/** Fresh capture files for a replica about to start: the fds to give it as stdout and stderr
 * (the caller closes them once it has spawned). Throws (an errno error) when they cannot be made. */
export function openCapture(dir: string, name: string): [stdoutFd: number, stderrFd: number] {
  const files = captureFiles(dir, name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  rmSync(files.position, { force: true });
  const flags =
    constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_APPEND | O_NOFOLLOW;
  const out = openSync(files.stdout, flags, 0o600);
  try {
    return [out, openSync(files.stderr, flags, 0o600)];
  } catch (err) {
    closeSync(out);
    throw err;
  }
}

/** Deletes a replica's capture files (its lines are in the log store by then). */
export function removeCapture(dir: string, name: string): void {
  const files = captureFiles(dir, name);
  for (const f of [files.stdout, files.stderr, files.position]) {
    try {
      rmSync(f, { force: true });
    } catch {
      // a directory that went away, or one we cannot write: nothing to keep up for
    }
  }
}

function checkName(name: string): void {
  if (!/^[\w.-]+$/.test(name) || name.startsWith('.'))
    throw new Error(`invalid replica name for a capture file: ${name}`);
}

interface StreamState {
  readonly path: string;
  fd?: number;
  /** Bytes read (and pushed to the splitter). */
  offset: number;
  /** Just after the last newline read: what a crash must resume from (earlier lines emitted). */
  lineEnd: number;
  /** Bytes from the start given back to the disk (a hole), or being given back. */
  reclaimed: number;
  readonly splitter: LineSplitter;
}

export class OutputTail {
  private readonly streams: Record<OutputStream, StreamState>;
  private readonly positionFile: string;
  private closed = false;
  /** A read is queued (setImmediate) or running. */
  private scheduled = false;
  private readonly poll: NodeJS.Timeout;
  private persistTimer?: NodeJS.Timeout;
  private lastPersist = 0;
  private persisted = '';
  private readonly buf = Buffer.allocUnsafe(CHUNK);
  private caughtUp: (() => void)[] = [];
  private readonly reclaimBytes: number;
  private reclaimFailed = false;

  constructor(
    private readonly dir: string,
    private readonly name: string,
    emit: OutputEmit,
    opts: OutputTailOptions = {},
  ) {
    const files = captureFiles(dir, name);
    this.reclaimBytes = opts.reclaimBytes ?? RECLAIM_BYTES;
    this.positionFile = files.position;
    const start = opts.resume ? readPosition(files.position) : { stdout: 0, stderr: 0 };
    const state = (stream: OutputStream): StreamState => ({
      path: files[stream],
      offset: start[stream],
      lineEnd: start[stream],
      reclaimed: 0,
      splitter: new LineSplitter((line) => emit(stream, line)),
    });
    this.streams = { stdout: state('stdout'), stderr: state('stderr') };
    this.persisted = JSON.stringify(start);
    dirWatch(dir).add(name, this);
    this.poll = setInterval(() => this.wake(), POLL_MS);
    this.poll.unref();
    this.wake();
  }

  /** Something may have been written: read it soon (once, however many events arrive). */
  wake(): void {
    if (this.closed || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.turn());
  }

  /** Reads everything written so far, now (unbounded: for an exit or a close). */
  drain(): void {
    if (this.closed) return;
    while (this.readSome(BUDGET, Infinity).read > 0);
    this.persistSoon();
  }

  /** Resolves once everything written so far is read, reading in bounded turns (a replica that
   * exited with megabytes not yet read does not stall the event loop either). */
  catchUp(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.caughtUp.push(resolve);
      this.wake();
    });
  }

  /** Reads the rest, emits the partial last lines, stops watching; persists the position (the
   * replica keeps running, a later tail resumes) or, with `remove`, deletes the files. */
  close(opts: { remove?: boolean } = {}): void {
    if (this.closed) return;
    this.drain();
    this.closed = true;
    clearInterval(this.poll);
    clearTimeout(this.persistTimer);
    dirWatch(this.dir).delete(this.name, this);
    for (const s of Object.values(this.streams)) {
      s.splitter.flush();
      // The partial line is emitted: a later tail starts after it.
      s.lineEnd = s.offset;
      if (s.fd !== undefined) closeQuietly(s.fd);
      s.fd = undefined;
    }
    if (opts.remove) removeCapture(this.dir, this.name);
    else this.persist();
    for (const resolve of this.caughtUp.splice(0)) resolve();
  }

  private turn(): void {
    this.scheduled = false;
    if (this.closed) return;
    const { read, more } = this.readSome(BUDGET, performance.now() + TURN_MS);
    if (more) {
      this.wake(); // more is waiting: after whatever else the event loop has to do
    } else {
      for (const resolve of this.caughtUp.splice(0)) resolve();
    }
    if (read > 0) this.persistSoon();
  }

  /** Reads up to about `budget` bytes or until `deadline`, the two streams a chunk each in turn;
   * `more`: it stopped before the end of the files. */
  private readSome(budget: number, deadline: number): { read: number; more: boolean } {
    let read = 0;
    for (;;) {
      let progress = false;
      for (const stream of STREAMS) {
        const n = this.readChunk(this.streams[stream]);
        if (n > 0) progress = true;
        read += n;
      }
      if (!progress) return { read, more: false };
      if (read >= budget || performance.now() >= deadline) return { read, more: true };
    }
  }

  private readChunk(s: StreamState): number {
    try {
      s.fd ??= openSync(s.path, constants.O_RDONLY | O_NOFOLLOW);
      // A file that is shorter than where we are was made anew (the replica started again):
      // read it from its start.
      if (fstatSync(s.fd).size < s.offset) s.offset = s.lineEnd = 0;
      const n = readSync(s.fd, this.buf, 0, CHUNK, s.offset);
      if (n === 0) return 0;
      const chunk = this.buf.subarray(0, n);
      const nl = chunk.lastIndexOf(0x0a);
      if (nl !== -1) s.lineEnd = s.offset + nl + 1;
      s.offset += n;
      s.splitter.push(chunk);
      return n;
    } catch {
      // Not there (yet, or any more), unreadable, a failing disk: nothing to read now; the next
      // wake-up tries again. Never thrown into the daemon.
      if (s.fd !== undefined) closeQuietly(s.fd);
      s.fd = undefined;
      return 0;
    }
  }

  private persistSoon(): void {
    if (this.persistTimer || this.closed) return;
    const wait = Math.max(0, this.lastPersist + POSITION_EVERY_MS - Date.now());
    this.persistTimer = setTimeout(() => {
      this.persistTimer = undefined;
      this.persist();
    }, wait);
    this.persistTimer.unref();
  }

  /** Writes the offsets of the last complete line read of each stream (atomically: a crash
   * leaves the old position or the new, never half of one). A failing write is dropped. */
  private persist(): void {
    this.lastPersist = Date.now();
    const text = JSON.stringify({
      stdout: this.streams.stdout.lineEnd,
      stderr: this.streams.stderr.lineEnd,
    } satisfies OutputPosition);
    if (text === this.persisted) return;
    const temp = `${this.positionFile}.tmp`;
    try {
      writeFileSync(temp, text, { mode: 0o600 });
      renameSync(temp, this.positionFile);
      this.persisted = text;
    } catch {
      rmSync(temp, { force: true });
      return;
    }
    for (const s of Object.values(this.streams)) this.reclaim(s);
  }

  /** Frees the disk blocks of what is read and persisted (never beyond: a tail resuming after a
   * crash must find its lines), with util-linux's fallocate, no shell. Where it is missing or the
   * filesystem cannot punch holes, the files keep growing until the replica exits. */
  private reclaim(s: StreamState): void {
    const upto = s.lineEnd - (s.lineEnd % PAGE);
    if (noHolePunching || this.reclaimFailed || upto - s.reclaimed < this.reclaimBytes) return;
    const from = s.reclaimed;
    s.reclaimed = upto;
    const args = [
      '--punch-hole',
      '--offset',
      String(from),
      '--length',
      String(upto - from),
      s.path,
    ];
    execFile('fallocate', args, { timeout: 10_000 }, (err) => {
      if (!err) return;
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') noHolePunching = true;
      // A filesystem without holes (or the files gone): not tried again for these files.
      this.reclaimFailed = true;
      s.reclaimed = from;
    });
  }
}

/** No fallocate on this machine: not looked for again. */
let noHolePunching = false;

/** The persisted position; a missing or damaged file means the start. */
function readPosition(file: string): OutputPosition {
  try {
    const p = JSON.parse(readFileSync(file, 'utf8')) as Partial<OutputPosition>;
    const at = (v: unknown): number =>
      typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : 0;
    return { stdout: at(p.stdout), stderr: at(p.stderr) };
  } catch {
    return { stdout: 0, stderr: 0 };
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // nothing to do
  }
}

/** One fs.watch per directory, dispatching each event to the tail of the file it names. */
class DirWatch {
  private watcher?: FSWatcher;
  private readonly tails = new Map<string, OutputTail>();

  constructor(private readonly dir: string) {}

  add(name: string, tail: OutputTail): void {
    this.tails.set(name, tail);
    if (!this.watcher) this.start();
  }

  delete(name: string, tail: OutputTail): void {
    if (this.tails.get(name) === tail) this.tails.delete(name);
    if (this.tails.size > 0) return;
    this.watcher?.close();
    this.watcher = undefined;
    watches.delete(this.dir);
  }

  private start(): void {
    try {
      this.watcher = watch(this.dir, { persistent: false }, (_event, file) => {
        if (file === null) {
          for (const t of this.tails.values()) t.wake(); // which one is unknown: all
          return;
        }
        // Only writes to the output files: the tails' own position files change too.
        const suffix = file.slice(-4);
        if (suffix === SUFFIX.stdout || suffix === SUFFIX.stderr)
          this.tails.get(file.slice(0, -4))?.wake();
      });
      // Out of inotify watches, the directory removed: the poll carries on alone.
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch {
      this.watcher = undefined;
    }
  }
}

const watches = new Map<string, DirWatch>();

function dirWatch(dir: string): DirWatch {
  let w = watches.get(dir);
  if (!w) {
    w = new DirWatch(dir);
    watches.set(dir, w);
  }
  return w;
}
