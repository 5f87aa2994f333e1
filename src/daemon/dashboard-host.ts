// Starts the dashboard a project's `x-herd.dashboard` asks for, backed by this daemon's own control
// API (the socket the CLI uses), so what the page shows and does is what `herd ps`/`scale`/… do.
import { join } from 'node:path';
import type { Project } from '../compose/model.ts';
import { dashboardOf } from '../compose/dashboard-settings.ts';
import type { ListenAddress } from '../compose/listen-address.ts';
import { DashboardServer } from '../dashboard/server.ts';
import { loadOrCreateToken } from '../dashboard/token.ts';
import type { DashboardAction, DashboardBackend, StateView } from '../dashboard/types.ts';
import type { HttpHosts } from '../util/http-host.ts';
import type { PsResponse } from './api-types.ts';
import { DaemonClient } from './client.ts';
import type { DaemonPaths } from './paths.ts';

const EVENT_RETRY_MS = 1000;

/** The project's dashboard (none running while the file has no `x-herd.dashboard`). */
export interface DashboardHost {
  /** The URL with its token, while a dashboard runs. */
  readonly url: string | undefined;
  /** Takes a re-applied file: a changed address moves the page there (same token). */
  apply(next: Project): Promise<void>;
  close(): Promise<void>;
}

/** `hosts`: the daemon's servers for its own endpoints (the page shares /metrics' address). */
export async function openDashboard(
  project: Project,
  paths: DaemonPaths,
  hosts: HttpHosts,
): Promise<DashboardHost> {
  const start = async (listen: ListenAddress) => {
    const token = loadOrCreateToken(join(paths.dir, 'dashboard.token'));
    const backend = controlApiBackend(new DaemonClient(paths.socket, project.name));
    const s = new DashboardServer({ listen, token, backend, hosts });
    await s.start();
    return s;
  };
  let listen = dashboardOf(project.herd.extra);
  let server = listen && (await start(listen));
  return {
    get url() {
      return server?.url;
    },
    async apply(next) {
      const wanted = dashboardOf(next.herd.extra);
      if (JSON.stringify(wanted) === JSON.stringify(listen)) return;
      await server?.close();
      server = undefined;
      listen = undefined;
      if (!wanted) return;
      server = await start(wanted);
      listen = wanted;
    },
    close: async () => server?.close(),
  };
}

function controlApiBackend(client: DaemonClient): DashboardBackend {
  return {
    state: async () => (await client.get<PsResponse>('/v1/ps')) as StateView,
    act: (action: DashboardAction, body: unknown) =>
      client.post(action === 'scale' ? '/v1/scale' : `/v1/${action}`, body),
    onEvent: (listener) => followEvents(client, listener),
  };
}

/** Follows `GET /v1/events` until unsubscribed, reconnecting when the stream breaks. */
function followEvents(client: DaemonClient, listener: (event: unknown) => void): () => void {
  const abort = new AbortController();
  const loop = async () => {
    while (!abort.signal.aborted) {
      await client.stream('/v1/events', listener, abort.signal).catch(() => undefined);
      if (!abort.signal.aborted) await new Promise((r) => setTimeout(r, EVENT_RETRY_MS).unref());
    }
  };
  void loop();
  return () => abort.abort();
}
