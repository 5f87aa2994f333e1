// One daemon's life, in the order `herd up` needs it: claim the state dir, clean up after a dead
// predecessor, then serve the control API for the engine and record its replicas and logs.
import type { Project } from '../compose/model.ts';
import type { EngineEvent } from '../engine/events.ts';
import { runtimeKind } from '../compose/runtime-kind.ts';
import type { RotationPolicy } from '../logs/rotate.ts';
import { LogStore } from '../logs/store.ts';
import { AdoptionPool } from '../runtime/process/adoption.ts';
import { cgroups } from '../runtime/process/cgroups.ts';
import { HerdError } from '../util/errors.ts';
import { probeSocket } from './client.ts';
import { acquireDaemonLock, type DaemonLock } from './daemon-lock.ts';
import type { EngineControl } from './control.ts';
import { rmSync } from 'node:fs';
import {
  DefinitionRecorder,
  definitionsFile,
  readDefinitions,
  recordsToRestore,
} from './definitions-file.ts';
import { stopOrphans, type OrphanResult } from './orphans.ts';
import { daemonPaths, ensurePrivateDir, stateDirFor, type DaemonPaths } from './paths.ts';
import { OutageWatch } from './outage.ts';
import { StateRecorder } from './recorder.ts';
import { forgetStateDir, registerProject } from './registry.ts';
import type { DaemonServerOptions } from './api/context.ts';
import { DaemonServer } from './server.ts';
import { readState, removeState, type DaemonState, type RecordedReplica } from './state-file.ts';
import { DaemonWarnings } from './warnings.ts';

export interface PrepareOptions {
  /** Defaults to the dir for `project.name` from the environment. */
  paths?: DaemonPaths;
  env?: Record<string, string | undefined>;
  orphanGraceMs?: number;
  logRotation?: Partial<RotationPolicy>;
}

export interface ServeOptions {
  reload?: () => Promise<Project>;
  prepareApply?: DaemonServerOptions['prepareApply'];
  /** `herd down`, after the engine stopped and before the answer: remove what the runtimes
   * created (containers, network), so `down` returns only once they are gone. */
  removeResources?: DaemonServerOptions['removeResources'];
  /** After `herd down` was answered: the caller closes the session and exits. */
  onDown?: (opts: { volumes: boolean }) => void;
  logPollMs?: number;
  /** Carry over what `herd scale`/`herd stop` recorded before the previous daemon ended: the
   * scale overrides are applied to the engine here (call before `engine.up()`), and the caller
   * should leave `previous.stopped` out of `engine.up(...)`. Default false: `up` applies the
   * compose file as written, as Compose does. */
  keepRecorded?: boolean;
  /** The balancer's per-replica counters, shown by `ps`. */
  traffic?: DaemonServerOptions['traffic'];
  dashboardUrl?: DaemonServerOptions['dashboardUrl'];
}

export class DaemonSession {
  private server?: DaemonServer;
  private recorder?: StateRecorder;
  private definitions?: DefinitionRecorder;
  private outages?: OutageWatch;
  private engine?: EngineControl;
  private stopRuntimeWarnings?: () => void;
  private readonly onOutput = (e: EngineEvent) => {
    if (e.type === 'output') this.logs.append(e.name, { t: e.at, stream: e.stream, line: e.line });
  };

  constructor(
    readonly project: Project,
    readonly paths: DaemonPaths,
    /** What the previous daemon recorded (scale overrides, stopped services), if anything. */
    readonly previous: DaemonState | undefined,
    readonly orphans: OrphanResult,
    readonly logs: LogStore,
    /** What a daemon that died left running, for the process runtime to take over. */
    readonly adoption: AdoptionPool,
    readonly warnings: DaemonWarnings = new DaemonWarnings(),
    /** One daemon per project: held until close(). */
    private readonly lock?: DaemonLock,
  ) {}

  /** Records the engine's replicas and logs and answers the control API. */
  async serve(engine: EngineControl, opts: ServeOptions = {}): Promise<void> {
    this.engine = engine;
    const kept = opts.keepRecorded ? this.keptState() : undefined;
    if (kept) for (const [svc, n] of Object.entries(kept.scale)) engine.setScale(svc, n);
    const defs = definitionsFile(this.paths.dir);
    if (kept)
      await engine.restoreDefinitions?.(
        recordsToRestore(this.project, readDefinitions(defs, this.project.name)),
      );
    this.definitions = new DefinitionRecorder(defs, this.project.name, engine, this.warnings);
    this.definitions.attach();
    this.recorder = new StateRecorder(this.paths.stateFile, this.project.name, {
      initial: kept,
      warnings: this.warnings,
    });
    this.recorder.attach(engine);
    this.outages = new OutageWatch(engine, this.warnings);
    // What the process runtime can only warn about (a limit no cgroup enforces here, a replica
    // it cannot record) is listed by `ps` and told on `events`, not only written to daemon.log.
    this.stopRuntimeWarnings = cgroups.onWarning((message, key) =>
      this.warnings.set(`runtime:${key}`, message),
    );
    engine.on('event', this.onOutput);
    this.server = new DaemonServer({
      project: this.project,
      engine,
      paths: this.paths,
      logs: this.logs,
      recorder: this.recorder,
      reload: opts.reload,
      prepareApply: opts.prepareApply,
      removeResources: opts.removeResources,
      onDown: opts.onDown,
      logPollMs: opts.logPollMs,
      traffic: opts.traffic,
      warnings: this.warnings,
      dashboardUrl: opts.dashboardUrl,
    });
    await this.server.listen();
    registerProject({
      project: this.project.name,
      stateDir: this.paths.dir,
      configFiles: this.project.composeFiles,
    });
  }

  /** The previous overrides, minus services the compose file no longer has. */
  private keptState(): DaemonState | undefined {
    if (!this.previous) return undefined;
    const known = (s: string) => s in this.project.services;
    return {
      ...this.previous,
      scale: Object.fromEntries(Object.entries(this.previous.scale).filter(([s]) => known(s))),
      stopped: this.previous.stopped.filter(known),
    };
  }

  /** Stops answering and recording. With `removeAll` (after `down`) the state and logs go too. */
  async close(opts: { removeAll?: boolean; keepLogs?: boolean } = {}): Promise<void> {
    if (this.server) forgetStateDir(this.paths.dir);
    await this.server?.close();
    this.recorder?.close();
    this.outages?.close();
    this.stopRuntimeWarnings?.();
    if (this.engine) {
      this.engine.off('event', this.onOutput);
      this.recorder?.detach(this.engine);
    }
    this.definitions?.detach();
    if (opts.removeAll) removeState(this.paths.stateFile);
    if (opts.removeAll) rmSync(definitionsFile(this.paths.dir), { force: true });
    if (opts.removeAll && !opts.keepLogs) this.logs.removeAll();
    else this.logs.close();
    this.lock?.release();
  }
}

/** Claims the project's state dir: fails when a live daemon owns it, stops a dead one's replicas. */
export async function prepareDaemon(
  project: Project,
  opts: PrepareOptions = {},
): Promise<DaemonSession> {
  const paths = opts.paths ?? daemonPaths(stateDirFor(project.name, opts.env));
  ensurePrivateDir(paths.dir);
  const lock = await acquireDaemonLock(paths.dir, project.name).catch(async (err: unknown) => {
    throw (await runningDaemon(project, paths)) ?? err;
  });
  try {
    return await claimStateDir(project, paths, opts, lock);
  } catch (err) {
    lock.release();
    throw err;
  }
}

/** CONFLICT naming the daemon that answers on the socket, if one does. */
async function runningDaemon(project: Project, paths: DaemonPaths): Promise<HerdError | undefined> {
  const other = await probeSocket(paths.socket);
  if (!other) return undefined;
  return new HerdError(
    `a herd daemon for project ${project.name} is already running (pid ${other.pid}); ` +
      'use `herd ps` to see it or `herd down` to stop it',
    'CONFLICT',
  );
}

async function claimStateDir(
  project: Project,
  paths: DaemonPaths,
  opts: PrepareOptions,
  lock: DaemonLock,
): Promise<DaemonSession> {
  // Where there is no lock (not Linux), the socket tells.
  const other = await runningDaemon(project, paths);
  if (other) throw other;
  const previous = readState(paths.stateFile);
  const warnings = new DaemonWarnings();
  const logs = new LogStore(paths.logsDir, project.name, opts.logRotation, (t) =>
    t.error
      ? warnings.set(
          'log-write',
          `replica output is not stored: ${t.error}; lines are dropped (counted) until writes work again`,
        )
      : warnings.clear(
          'log-write',
          `replica logs are stored again (${t.dropped} line(s) were dropped)`,
        ),
  );
  // What a dead predecessor left running is taken over, not restarted: its cgroups are claimed
  // before anything sweeps them, and its replicas are no orphans.
  const adoption = AdoptionPool.load({
    dir: paths.captureDir,
    project: project.name,
    cgroups,
    processServices: new Set(
      Object.values(project.services)
        .filter((s) => runtimeKind(s) !== 'docker')
        .map((s) => s.name),
    ),
    sink: (name, stream, line) => logs.append(name, { t: Date.now(), stream, line }),
  });
  const adoptable = new Set(adoption.pids());
  const orphans = previous
    ? await stopOrphans(
        orphanProcesses(project, previous.replicas).filter((r) => !adoptable.has(r.pid)),
        { project: project.name, graceMs: opts.orphanGraceMs },
      )
    : { stopped: [], skipped: [] };
  // The cgroups of a dead predecessor's replicas, and what escaped their process groups.
  await cgroups.sweep(project.name);
  return new DaemonSession(project, paths, previous, orphans, logs, adoption, warnings, lock);
}

/** The recorded replicas a dead daemon's successor (or `down`) must stop by signal: process
 * replicas, and those of services the compose file no longer has. A Docker service's containers
 * are left alone — the next daemon adopts them, `down` removes them through the engine. */
export function orphanProcesses(project: Project, records: RecordedReplica[]): RecordedReplica[] {
  return records.filter((r) => {
    const service = project.services[r.service];
    return service === undefined || runtimeKind(service) !== 'docker';
  });
}
