// Images for Docker services: build from a local context through the Engine API (Compose's
// `build:`), or pull what is missing, reporting progress line by line.
import type Dockerode from 'dockerode';
import type { Readable } from 'node:stream';
import { HerdError } from '../../util/errors.ts';
import { packContext } from './context.ts';

export type ProgressListener = (line: string) => void;

export interface BuildOptions {
  /** Folder sent to the engine as the build context. */
  context: string;
  /** Path of the Dockerfile, relative to the context or absolute (default `Dockerfile`). */
  dockerfile?: string;
  args?: Record<string, string>;
  target?: string;
  /** Image name to tag the result with, e.g. `myproject-web` or `myproject-web:latest`. */
  tag: string;
  labels?: Record<string, string>;
  onProgress?: ProgressListener;
}

/** Builds an image and resolves with its id; a failing step becomes a HerdError quoting the engine. */
export async function buildImage(docker: Dockerode, opts: BuildOptions): Promise<string> {
  const packed = packContext(opts.context, opts.dockerfile);
  const query: Record<string, unknown> = {
    t: opts.tag,
    dockerfile: packed.dockerfile,
    rm: true,
    forcerm: true,
  };
  if (opts.args && Object.keys(opts.args).length > 0) query.buildargs = JSON.stringify(opts.args);
  if (opts.labels && Object.keys(opts.labels).length > 0)
    query.labels = JSON.stringify(opts.labels);
  if (opts.target) query.target = opts.target;

  let stream: Readable;
  try {
    stream = (await docker.buildImage(packed.stream, query)) as Readable;
  } catch (err) {
    throw new HerdError(
      `building image ${opts.tag} from ${opts.context} failed: ${engineMessage(err)}`,
    );
  }
  let imageId: string | undefined;
  const events = await followJsonStream(stream, (event) => {
    const aux = event.aux as { ID?: string } | undefined;
    if (aux?.ID) imageId = aux.ID;
    if (typeof event.stream === 'string') {
      for (const line of event.stream.split('\n'))
        if (line.trim()) opts.onProgress?.(line.trimEnd());
    } else if (typeof event.status === 'string') opts.onProgress?.(event.status);
  });
  const failure = events.find((e) => e.error || e.errorDetail);
  if (failure) {
    throw new HerdError(
      `building image ${opts.tag} from ${opts.context} failed: ${eventError(failure)}`,
    );
  }
  if (imageId) return imageId;
  const info = await docker.getImage(opts.tag).inspect();
  return info.Id;
}

/** Pulls an image, reporting progress; no registry reachable becomes a HerdError naming the image. */
export async function pullImage(
  docker: Dockerode,
  image: string,
  onProgress?: ProgressListener,
): Promise<void> {
  const failed = (why: string) =>
    new HerdError(
      `pulling image ${image} failed: ${why}. No registry answered for it; build it locally ` +
        `(add a build: section or run docker build -t ${image} .) or check the name and your network`,
    );
  let stream: Readable;
  try {
    stream = (await docker.pull(image)) as Readable;
  } catch (err) {
    throw failed(engineMessage(err));
  }
  const events = await followJsonStream(stream, (event) => {
    if (typeof event.status !== 'string') return;
    const id = typeof event.id === 'string' ? `${event.id}: ` : '';
    const progress = typeof event.progress === 'string' ? ` ${event.progress}` : '';
    onProgress?.(`${id}${event.status}${progress}`);
  });
  const failure = events.find((e) => e.error || e.errorDetail);
  if (failure) throw failed(eventError(failure));
}

export async function imageExists(docker: Dockerode, image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

/** Makes sure `image` is present: already local, else pulled. */
export async function ensureImage(
  docker: Dockerode,
  image: string,
  onProgress?: ProgressListener,
): Promise<void> {
  if (await imageExists(docker, image)) return;
  onProgress?.(`image ${image} not found locally, pulling`);
  await pullImage(docker, image, onProgress);
}

type JsonEvent = Record<string, unknown>;

/** Reads the engine's newline-delimited JSON progress stream to its end. */
function followJsonStream(
  stream: Readable,
  onEvent: (event: JsonEvent) => void,
): Promise<JsonEvent[]> {
  return new Promise((resolve, reject) => {
    const events: JsonEvent[] = [];
    let pending = '';
    const handle = (text: string) => {
      if (!text.trim()) return;
      let event: JsonEvent;
      try {
        event = JSON.parse(text) as JsonEvent;
      } catch {
        event = { stream: text };
      }
      events.push(event);
      onEvent(event);
    };
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) !== -1) {
        handle(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
      }
    });
    stream.on('end', () => {
      handle(pending);
      resolve(events);
    });
    stream.on('error', reject);
  });
}

function eventError(event: JsonEvent): string {
  const detail = event.errorDetail as { message?: string } | undefined;
  return String(detail?.message ?? event.error ?? 'unknown error').trim();
}

/** The engine's own explanation out of a dockerode error, without the HTTP noise. */
export function engineMessage(err: unknown): string {
  const e = err as { json?: { message?: string }; reason?: string; message?: string } | null;
  return (e?.json?.message ?? e?.message ?? String(err)).trim();
}
