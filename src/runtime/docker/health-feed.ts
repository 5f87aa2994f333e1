// Follows the engine's health_status events for a project's containers over one events stream,
// shared by every handle of the runtime.
import type Dockerode from 'dockerode';
import type { Readable } from 'node:stream';
import { HERD_PROJECT } from './labels.ts';
import { LineSplitter } from './lines.ts';

export type DockerHealthStatus = 'starting' | 'healthy' | 'unhealthy';
type Listener = (status: DockerHealthStatus) => void;

export class HealthFeed {
  private readonly listeners = new Map<string, Set<Listener>>();
  private stream: Readable | undefined;
  private opening: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly docker: Dockerode,
    private readonly project: string,
  ) {}

  /** Calls `listener` with every health status change of container `id`; returns the unsubscribe. */
  async subscribe(id: string, listener: Listener): Promise<() => void> {
    let set = this.listeners.get(id);
    if (!set) this.listeners.set(id, (set = new Set()));
    set.add(listener);
    await this.open();
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(id);
    };
  }

  forget(id: string): void {
    this.listeners.delete(id);
  }

  close(): void {
    this.closed = true;
    this.listeners.clear();
    this.stream?.destroy();
    this.stream = undefined;
  }

  private open(): Promise<void> {
    if (this.stream || this.closed) return Promise.resolve();
    this.opening ??= this.connect().finally(() => (this.opening = undefined));
    return this.opening;
  }

  private async connect(): Promise<void> {
    const stream = (await this.docker.getEvents({
      filters: {
        type: ['container'],
        event: ['health_status'],
        label: [`${HERD_PROJECT}=${this.project}`],
      },
    })) as unknown as Readable;
    if (this.closed) {
      stream.destroy();
      return;
    }
    this.stream = stream;
    const lines = new LineSplitter((line) => this.dispatch(line));
    stream.on('data', (chunk: Buffer) => lines.write(chunk));
    // A dropped stream is reopened on the next subscription.
    stream.on('close', () => {
      if (this.stream === stream) this.stream = undefined;
    });
    stream.on('error', () => {});
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
    for (const listener of this.listeners.get(event.id) ?? [])
      listener(match[1] as DockerHealthStatus);
  }
}
