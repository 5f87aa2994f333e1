// What every group of control API routes shares: the daemon's options, the project as last
// applied, the open streams and whether `herd down` is under way.
import type { ServerResponse } from 'node:http';
import type { Project } from '../../compose/model.ts';
import type { LogStore } from '../../logs/store.ts';
import type { ReplicaTraffic } from '../api-types.ts';
import type { EngineControl } from '../control.ts';
import type { DaemonPaths } from '../paths.ts';
import type { StateRecorder } from '../recorder.ts';
import type { DaemonWarnings } from '../warnings.ts';
import { ApiError } from './http.ts';

export interface DaemonServerOptions {
  project: Project;
  engine: EngineControl;
  paths: DaemonPaths;
  logs: LogStore;
  recorder?: StateRecorder;
  /** Re-reads the compose files for `POST /v1/apply` when the client sends no project. */
  reload?: () => Promise<Project>;
  /** Readies the balancer and runtimes for a re-applied file before the engine applies it (new
   * ports bound, images ready); what it returns runs after (ports the file dropped close). */
  prepareApply?: ApplyPreparer;
  /** `POST /v1/down`, after the engine stopped and before the answer: removes the runtimes'
   * containers and network, so the client returns only once they are gone. */
  removeResources?: (opts: { volumes: boolean }) => Promise<void>;
  /** Called once `POST /v1/down` has stopped the engine and answered: the daemon should exit. */
  onDown?: (opts: { volumes: boolean }) => void;
  /** Poll interval of `logs --follow` (tests use a short one). */
  logPollMs?: number;
  /** Per-replica counters of the balancer, keyed by replica name, for `ps`. */
  traffic?: () => Promise<Map<string, ReplicaTraffic>>;
  /** What is wrong right now (for `ps`), announced on the `events` stream. */
  warnings?: DaemonWarnings;
  /** The dashboard's URL with its token, when the project has one (`herd dashboard`). */
  dashboardUrl?: () => string | undefined;
}

export type ApplyPreparer = (next: Project) => Promise<() => Promise<void>>;

export class ApiContext {
  /** The project as last applied (`POST /v1/apply` replaces it). */
  project: Project;
  /** Open NDJSON streams (logs -f, events), ended when the server closes. */
  readonly streams = new Set<ServerResponse>();
  /** `herd down` is under way. */
  downing = false;

  constructor(readonly opts: DaemonServerOptions) {
    this.project = opts.project;
  }

  get engine(): EngineControl {
    return this.opts.engine;
  }

  /** A request's `services`, checked against the project; undefined (all) when none is named. */
  services(requested: unknown): string[] | undefined {
    if (requested === undefined || requested === null) return undefined;
    if (!Array.isArray(requested) || requested.some((s) => typeof s !== 'string'))
      throw new ApiError(400, '"services" must be a list of service names', 'INVALID_ARGUMENT');
    if (requested.length === 0) return undefined;
    const known = Object.keys(this.project.services);
    const unknown = requested.filter((s) => !known.includes(s));
    if (unknown.length)
      throw new ApiError(
        404,
        `no such service: ${unknown.join(', ')} (project ${this.project.name} has: ${known.join(', ')})`,
        'NO_SUCH_SERVICE',
      );
    return requested as string[];
  }
}
