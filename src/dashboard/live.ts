// The live side of the dashboard: a sample of the stack every tick (kept in the history and pushed
// to every open page over its WebSocket) and the engine's events as they happen. A WebSocket, not
// Server-Sent Events: pages stay live, and headless renderers (whose virtual time waits for open
// requests) still finish.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { HistoryRecorder, type History } from './history.ts';
import type { DashboardBackend, StateView } from './types.ts';

const RECENT_EVENTS = 200;

export interface Snapshot {
  state?: StateView;
  history: History;
  events: unknown[];
  /** Why the last sample failed, if it did (the page says the data is stale). */
  error?: string;
}

export class LiveFeed {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  private readonly history = new HistoryRecorder();
  private readonly events: unknown[] = [];
  private state?: StateView;
  private error?: string;
  private timer?: NodeJS.Timeout;
  private unsubscribe?: () => void;
  private sampling = false;

  constructor(
    private readonly backend: DashboardBackend,
    private readonly sampleMs: number,
  ) {}

  start(): void {
    this.unsubscribe = this.backend.onEvent((event) => {
      this.events.push(event);
      if (this.events.length > RECENT_EVENTS) this.events.shift();
      this.broadcast({ type: 'event', event });
    });
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.sampleMs);
    this.timer.unref();
  }

  /** The latest sample, taking a fresh one when none was taken yet. */
  async snapshot(): Promise<Snapshot> {
    if (!this.state) await this.sample();
    return {
      state: this.state,
      history: this.history.snapshot(),
      events: this.events,
      error: this.error,
    };
  }

  /** Takes over an authorized upgrade request of `/ws`. */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      void this.snapshot().then((s) => send(ws, { type: 'snapshot', ...s }));
      // The page only listens; anything it sends is ignored.
      ws.on('error', () => ws.terminate());
    });
  }

  close(): void {
    clearInterval(this.timer);
    this.unsubscribe?.();
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
  }

  private async sample(): Promise<void> {
    // One sample at a time: a slow daemon must not pile up requests.
    if (this.sampling) return;
    this.sampling = true;
    try {
      this.state = await this.backend.state();
      this.error = undefined;
      this.history.record(this.state);
      this.broadcast({ type: 'state', state: this.state, sample: this.latest() });
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
      this.broadcast({ type: 'error', error: this.error });
    } finally {
      this.sampling = false;
    }
  }

  /** The newest sample of each service, for pages that already hold the history. */
  private latest(): History {
    const out: History = {};
    for (const [svc, list] of Object.entries(this.history.snapshot())) out[svc] = list.slice(-1);
    return out;
  }

  private broadcast(message: object): void {
    if (this.wss.clients.size === 0) return;
    const data = JSON.stringify(message);
    for (const ws of this.wss.clients) if (ws.readyState === ws.OPEN) ws.send(data);
  }
}

function send(ws: WebSocket, message: object): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
}
