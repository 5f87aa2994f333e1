// Follows the engine's health_status events for a project's containers over one events stream,
// shared by every handle of the runtime. A dropped stream is reopened by itself (with a backoff)
// while anyone is watching, and the current status of every watched container is then read again
// so a change made while the stream was down is not lost.
import type Dockerode from 'dockerode';
import type { Readable } from 'node:stream';
import { HERD_PROJECT } from './labels.ts';
import { LineSplitter } from './lines.ts';

export type DockerHealthStatus = 'starting' | 'healthy' | 'unhealthy';
type Listener = (status: DockerHealthStatus) => void;

/** The first reconnect is tried this soon after a drop; each failure doubles it up to the max. */
const RECONNECT_FIRST_MS = 100;
const RECONNECT_MAX_MS = 3000;
/** A stream that stayed open this long resets the backoff when it drops. */
const STABLE_MS = 10_000;

export class HealthFeed {
  private readonly listeners = new Map<string, Set<Listener>>();
  private stream: Readable | undefined;
  private opening: Promise<void> | undefined;
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Consecutive drops or failed connects: the backoff's exponent. */
  private failures = 0;
  /** Set when the stream dropped or could not be opened: the next connect reads every status. */
  private missed = false;
  /** Bumped per event delivered to a container, so a stale inspect never overrides an event. */
  private readonly eventSeq = new Map<string, number>();

  constructor(
    private readonly docker: Dockerode,
    private readonly project: string,
  ) {}

  /** Calls `listener` with every health status change of container `id` (after a reconnect, its
   * current status again, which may repeat the last one); returns the unsubscribe. */
  async subscribe(id: string, listener: Listener): Promise<() => void> {
    let set = this.listeners.get(id);
    if (!set) this.listeners.set(id, (set = new Set()));
    set.add(listener);
    await this.open();
    return () => {
      set.delete(listener);
      if (set.size === 0) this.forget(id);
    };
  }

  forget(id: string): void {
    this.listeners.delete(id);
    this.eventSeq.delete(id);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.listeners.clear();
    this.eventSeq.clear();
    this.stream?.destroy();
    this.stream = undefined;
  }

  private open(): Promise<void> {
    if (this.stream || this.closed) return Promise.resolve();
    this.opening ??= this.connect().finally(() => (this.opening = undefined));
    return this.opening;
  }

  private async connect(): Promise<void> {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    let stream: Readable;
    try {
      stream = (await this.docker.getEvents({
        filters: {
          type: ['container'],
          event: ['health_status'],
          label: [`${HERD_PROJECT}=${this.project}`],
        },
      })) as unknown as Readable;
    } catch (err) {
      this.missed = true;
      this.failures++;
      this.scheduleReconnect();
      throw err;
    }
    if (this.closed) {
      stream.destroy();
      return;
    }
    this.stream = stream;
    const openedAt = Date.now();
    const lines = new LineSplitter((line) => this.dispatch(line), 1 << 20);
    stream.on('data', (chunk: Buffer) => lines.write(chunk));
    let dropped = false;
    const drop = () => {
      if (dropped) return;
      dropped = true;
      if (this.stream === stream) this.stream = undefined;
      if (this.closed) return;
      this.missed = true;
      this.failures = Date.now() - openedAt >= STABLE_MS ? 0 : this.failures + 1;
      this.scheduleReconnect();
    };
    // The engine closing the connection ends the stream; a broken one errors ("aborted") and
    // closes: either way it is reopened.
    stream.on('end', drop);
    stream.on('close', drop);
    stream.on('error', drop);
    if (this.missed) {
      this.missed = false;
      void this.resync();
    }
  }

  private scheduleReconnect(): void {
    if (this.closed || this.retryTimer || this.listeners.size === 0) return;
    const delay = Math.min(
      RECONNECT_FIRST_MS * 2 ** Math.max(0, this.failures - 1),
      RECONNECT_MAX_MS,
    );
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      // Nobody left to tell: the next subscription opens the stream again.
      if (this.listeners.size === 0) return;
      this.open().catch(() => {
        // connect() already scheduled the next attempt.
      });
    }, delay);
    // Retrying never keeps the process alive by itself.
    this.retryTimer.unref();
  }

  /** Reads the current health of every watched container after the stream was reopened. */
  private async resync(): Promise<void> {
    await Promise.all(
      [...this.listeners.keys()].map(async (id) => {
        const seq = this.eventSeq.get(id) ?? 0;
        let status: string | undefined;
        try {
          status = (await this.docker.getContainer(id).inspect()).State.Health?.Status;
        } catch {
          // Gone or the engine went away again: the handle's `exited` (or the next resync) tells.
          return;
        }
        // An event that arrived meanwhile on the new stream is newer than this answer.
        if (this.closed || (this.eventSeq.get(id) ?? 0) !== seq) return;
        if (status === 'starting' || status === 'healthy' || status === 'unhealthy')
          this.deliver(id, status);
      }),
    );
  }

  private dispatch(line: string): void {
    let event: { id?: string; Action?: string; status?: string };
    try {
      event = JSON.parse(line) as typeof event;
    } catch {
      return;
    }
    const action = event.Action ?? event.status ?? '';
    const match = /^health_status:\s*(starting|healthy|unhealthy)/.exec(action);
    if (!match || !event.id) return;
    if (this.listeners.has(event.id))
      this.eventSeq.set(event.id, (this.eventSeq.get(event.id) ?? 0) + 1);
    this.deliver(event.id, match[1] as DockerHealthStatus);
  }

  private deliver(id: string, status: DockerHealthStatus): void {
    for (const listener of this.listeners.get(id) ?? []) listener(status);
  }
}
