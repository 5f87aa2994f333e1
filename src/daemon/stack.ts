// Everything a running project needs, built from its Project: the state dir (with a dead
// predecessor's orphans stopped), the balancer, the runtimes, the engine and the control API.
// The foreground `herd up` (replica output on the console) and the detached daemon `up -d`
// starts run this same code; the CLI only parses its options and calls `run`.
import os from 'node:os';
import type { Project } from '../compose/model.ts';
import { Engine } from '../engine/engine.ts';
import type { EngineEvent } from '../engine/events.ts';
import { LogPrinter, shouldColor } from '../logs/printer.ts';
import type { Proxy } from '../proxy/index.ts';
import { createRuntimes, type Runtimes } from '../runtime/choose.ts';
import { booted } from '../runtime/process/boot-priority.ts';
import { HttpHosts } from '../util/http-host.ts';
import { DaemonClient } from './client.ts';
import { openDashboard, type DashboardHost } from './dashboard-host.ts';
import { openIngress, type Ingress } from './ingress-host.ts';
import { observe, type Observer } from './observe.ts';
import { killProxy, openProxy, trafficOf, type Revive } from './proxy-host.ts';
import { removeStateDir } from './paths.ts';
import { defaultBatch, START_HOLD_MS, StartPacer } from './start-pacer.ts';
import { prepareDaemon, type DaemonSession } from './session.ts';

export interface StackOptions {
  services: string[];
  scale: Record<string, number>;
  /** Re-reads the compose files for `herd up` against this running stack. */
  reload: () => Promise<Project>;
  /** Foreground: replica output on the console. Daemon: only herd's own notices (the replica
   * output is in the log store). */
  console: boolean;
  color: boolean;
  /** Rebuild images of services with `build:` (`up --build`). */
  build?: boolean;
  /** A detached daemon: how its proxy starts it again if it dies (proxy-host.ts). */
  revive?: Revive;
  abortOnContainerExit?: boolean;
}

/** What is open once `open()` succeeded. */
interface Parts {
  session: DaemonSession;
  printer: LogPrinter;
  proxy: Proxy;
  runtimes: Runtimes;
  engine: Engine;
}

export class Stack {
  private parts?: Parts;
  /** Metrics and the autoscaler (observe.ts). */
  private observer?: Observer;
  /** The `x-herd.dashboard` page, once the control API it calls answers. */
  private dashboard?: DashboardHost;
  /** The `x-herd.ingress` entry in front of the balancer. */
  private ingress?: Ingress;
  /** Stopping for good (Ctrl-C, `herd down`, everything exited): later triggers are ignored. */
  private stopping = false;
  /** The stop is `herd down`'s: the daemon ends once the server answered it. */
  private downing = false;
  /** Resolves with the exit code once the stack has stopped and closed. */
  private readonly finished: Promise<number>;
  private finish!: (code: number) => void;
  private readonly onSignal = (signal: NodeJS.Signals) => this.signalled(signal);

  constructor(
    private readonly project: Project,
    private readonly opts: StackOptions,
  ) {
    this.finished = new Promise<number>((resolve) => (this.finish = resolve));
  }

  /** Runs until Ctrl-C / SIGTERM, `herd down`, or (foreground) every replica exited; returns the
   * exit code. Throws when the stack cannot start (nothing is left running then). */
  async run(): Promise<number> {
    for (const w of this.project.warnings) process.stderr.write(`herd: warning: ${w}\n`);
    const parts = await this.open();
    try {
      await this.serveControl(parts);
    } catch (err) {
      await this.close(false);
      throw err;
    }
    this.listenForSignals();
    if (this.opts.console) parts.engine.on('event', (e) => this.endWhenAllExited(e));
    // up() may never resolve (a dependency that never turns healthy): Ctrl-C must still end it.
    const failure = await Promise.race([
      this.startServices(parts),
      this.finished.then(() => undefined),
    ]);
    if (failure !== undefined) {
      await this.abandon(parts);
      throw failure;
    }
    await this.settleAdoption(parts);
    const code = await this.finished;
    this.stopListening();
    return code;
  }

  /** Claims the state dir (stopping a dead predecessor's replicas before any replica starts),
   * binds the balancer — so a taken port is an error before anything runs — then assembles the
   * rest. */
  private async open(): Promise<Parts> {
    const session = await prepareDaemon(this.project);
    const printer = this.makePrinter();
    for (const n of session.orphans.stopped)
      printer.say(`Stopped ${n}, left running by a herd daemon that died`);
    let proxy: Proxy | undefined;
    try {
      proxy = await openProxy(this.project, session.paths, this.opts.revive);
      this.parts = await this.assemble(session, printer, proxy);
      return this.parts;
    } catch (err) {
      await proxy?.close().catch(() => undefined);
      await session.close({ removeAll: false });
      throw err;
    }
  }

  /** The runtimes (images built or pulled here, before any replica starts) and the engine that
   * runs the replicas through them, followed by the balancer. */
  private async assemble(
    session: DaemonSession,
    printer: LogPrinter,
    proxy: Proxy,
  ): Promise<Parts> {
    const runtimes = await createRuntimes(this.project, {
      build: this.opts.build,
      onProgress: (service, line) => printer.say(`${service}: ${line}`),
      // Process replicas get their secrets and configs as files under the state dir.
      filesDir: `${session.paths.dir}/files`,
      // Their output goes to files the replicas hold, which outlive the daemon (output-files.ts).
      outputDir: session.paths.captureDir,
      adoption: session.adoption,
      // Replicas boot at a low priority until ready (the listener below sets it back).
      bootPriority: true,
    });
    // Replicas boot a few at a time, so the ones serving keep getting CPU (start-pacer.ts).
    const pacer = new StartPacer(defaultBatch(os.availableParallelism()), START_HOLD_MS);
    const engine = new Engine(this.project, {
      runtime: (s) => pacer.wrap(runtimes.forService(s)),
      serviceAddresses: () => proxy.serviceAddresses(),
      // A rollback's definition (a Docker service's previous image) must be what starts.
      definitionsChanged: (p) => runtimes.apply(p),
    });
    engine.on('event', pacer.onEvent);
    // A process replica boots at a low priority until it is ready (boot-priority.ts).
    engine.on('event', (e) => {
      if (e.type === 'ready' && e.replica.pid !== undefined) booted(e.replica.pid);
    });
    engine.on('event', (e) => {
      if (this.opts.console || e.type !== 'output') printer.handle(e);
    });
    proxy.attach(engine);
    return { session, printer, proxy, runtimes, engine };
  }

  private makePrinter(): LogPrinter {
    const names = Object.values(this.project.services).flatMap((s) =>
      Array.from({ length: this.opts.scale[s.name] ?? s.scale }, (_, i) => `${s.name}-${i + 1}`),
    );
    return new LogPrinter({
      color: this.opts.console && shouldColor(this.opts.color, process.stdout.isTTY, process.env),
      write: (t) => process.stdout.write(t),
      names,
    });
  }

  /** Answers the control API (so `herd ps`/`scale`/`logs` work against a foreground `herd up`
   * too), then applies `--scale` through it so the recorded state (and `ps`) know it. */
  private async serveControl({ session, proxy, runtimes, printer, engine }: Parts): Promise<void> {
    await session.serve(engine, {
      reload: this.opts.reload,
      prepareApply: async (next) => {
        await runtimes.apply(next);
        const finish = await proxy.apply(next);
        // The new file's pools are bound now: its routes may lead to them. Reopening the ingress,
        // the dashboard or /metrics (changed settings) may fail to bind; the services' changes
        // are applied all the same, and the failure is the answer once they are.
        const failure = (err: unknown) => err;
        const ingress = this.ingress?.apply(next).then(() => undefined, failure);
        return async () => {
          await finish();
          const dashboard = await this.dashboard?.apply(next).then(() => undefined, failure);
          const metrics = await this.observer?.apply(next).then(() => undefined, failure);
          const failed = (await ingress) ?? dashboard ?? metrics;
          if (failed) throw failed;
        };
      },
      // A previous daemon that died left its desired state: bring the stack back to it.
      keepRecorded: session.previous !== undefined,
      traffic: () => trafficOf(proxy),
      dashboardUrl: () => this.dashboard?.url,
      // `herd down`: the server awaits this before answering, so `down` returns once the
      // containers and network are gone…
      removeResources: async ({ volumes }) => {
        // A Ctrl-C already under way removes them and ends the stack itself.
        if (this.stopping) return;
        this.stopping = true;
        this.downing = true;
        printer.say('Stopped by `herd down`');
        await runtimes.down({ volumes });
      },
      // …then, once it answered, the daemon ends.
      onDown: () => this.endAfterDown(printer),
    });
    this.ingress = await openIngress(this.project, proxy);
    // One server per address for herd's own endpoints: /metrics and the page may share one.
    const hosts = new HttpHosts();
    this.dashboard = await openDashboard(this.project, session.paths, hosts);
    this.observer = await observe(
      this.project,
      engine,
      proxy,
      session.paths.dir,
      session.warnings,
      hosts,
    );
    if (Object.keys(this.opts.scale).length > 0)
      await new DaemonClient(session.paths.socket, this.project.name).post(
        '/v1/scale',
        this.opts.scale,
      );
  }

  private endAfterDown(printer: LogPrinter): void {
    if (!this.downing) return;
    void this.close(true).then(
      () => this.finish(0),
      (err: unknown) => {
        printer.say(`herd down: ${err instanceof Error ? err.message : String(err)}`);
        this.finish(1);
      },
    );
  }

  /** Starts the services, from what a dead predecessor recorded (minus services the compose
   * file no longer has) when there is a record; resolves with the failure, if any. */
  private startServices({ session, engine }: Parts): Promise<unknown> {
    const known = (svc: string) => svc in this.project.services;
    const recorded = session.previous;
    const stopped = (recorded?.stopped ?? []).filter(known);
    const scales = Object.fromEntries(
      Object.entries(recorded?.scale ?? {}).filter(([svc]) => known(svc)),
    );
    // `herd up web` starts web (and its dependencies) even when it was recorded stopped.
    const held = stopped.filter((svc) => !this.opts.services.includes(svc));
    const only = this.opts.services.length > 0 ? this.opts.services : undefined;
    return engine.up(only, { scales, stopped: held }).then(
      () => undefined,
      (err: unknown) => err,
    );
  }

  /** After the first `up`: what a daemon that died left running and nobody took over (its
   * service gone, stopped or scaled down) is stopped, and an adopted proxy's table becomes this
   * daemon's (until now it served its last one, so no request failed meanwhile). */
  private async settleAdoption({ session, proxy, engine, printer }: Parts): Promise<void> {
    for (const name of await session.adoption.releaseUnclaimed())
      printer.say(`Stopped ${name}, left running by a herd daemon that died and not wanted now`);
    if (!proxy.adoptedProxy()) return;
    const live = engine.replicas().filter((r) => r.state === 'running' || r.state === 'starting');
    await proxy.settle(live.map((r) => r.name));
  }

  /** The start failed: stop what did start; keep what a dead predecessor recorded for the next
   * attempt, else remove what this run created. */
  private async abandon({ session, engine }: Parts): Promise<void> {
    this.stopListening();
    this.stopping = true;
    await engine.shutdown();
    const keep = session.previous !== undefined;
    if (!keep) await this.removeOwnResources();
    await this.close(!keep);
  }

  /** Stops everything gracefully, then closes and finishes with `code`. */
  private stopAll(code: number, message: string): void {
    if (this.stopping || !this.parts) return;
    this.stopping = true;
    this.parts.printer.say(message);
    void this.parts.engine
      .shutdown()
      // The state dir goes, so herd's own containers and `<project>_default` network go too
      // (named volumes stay, as with `docker compose down`).
      .then(() => this.removeOwnResources())
      .then(() => this.close(true, true))
      .then(
        () => this.finish(code),
        () => this.finish(code || 1),
      );
  }

  private signalled(signal: NodeJS.Signals): void {
    if (this.stopping && this.parts) {
      // Second Ctrl-C: no more waiting for grace periods.
      this.parts.printer.say('Killing everything now');
      this.parts.engine.killAll();
      killProxy(this.parts.proxy);
      process.exit(signal === 'SIGINT' ? 130 : 137);
    }
    this.stopAll(
      signal === 'SIGINT' ? 130 : 0,
      'Gracefully stopping... (press Ctrl+C again to force)',
    );
  }

  private listenForSignals(): void {
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
    // A closed terminal stops a foreground stack gracefully instead of orphaning its replicas.
    if (this.opts.console) process.on('SIGHUP', this.onSignal);
  }

  private stopListening(): void {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
    process.off('SIGHUP', this.onSignal);
  }

  /** Foreground only: like `docker compose up`, return once nothing runs and nothing will
   * restart, or at the first exit with --abort-on-container-exit. */
  private endWhenAllExited(e: EngineEvent): void {
    if (this.stopping || e.type !== 'replica' || !this.parts) return;
    const all = this.parts.engine.replicas();
    if (this.opts.abortOnContainerExit && e.replica.state === 'exited') {
      this.stopAll(e.replica.lastExit?.exitCode ?? 1, 'Aborting on container exit...');
    } else if (
      all.length > 0 &&
      all.every((r) => r.state === 'exited') &&
      // `herd stop` from another terminal leaves the stack to `herd start`, not the end.
      !all.some((r) => r.reason === 'stopped')
    ) {
      this.stopAll(0, 'All replicas have exited');
    }
  }

  /** Removes the project's containers and network; a failure is reported, not fatal. */
  private async removeOwnResources(): Promise<void> {
    if (!this.parts) return;
    try {
      await this.parts.runtimes.down({ volumes: false });
    } catch (err) {
      this.parts.printer.say(
        `could not remove the project's containers or network: ` +
          `${err instanceof Error ? err.message : String(err)}; \`herd down\` retries`,
      );
    }
  }

  /** Closes what was opened, in reverse order; `removeAll` also forgets the recorded state, and
   * the replicas' logs unless `keepLogs` (a stack stopped by Ctrl-C keeps them for `herd logs`,
   * as Compose's stopped containers keep theirs; `down` removes them). */
  private async close(removeAll: boolean, keepLogs = false): Promise<void> {
    if (!this.parts) return;
    const { proxy, runtimes, session } = this.parts;
    if (removeAll) await session.adoption.releaseUnclaimed().catch(() => undefined);
    await this.observer?.close(removeAll).catch(() => undefined);
    await this.dashboard?.close().catch(() => undefined);
    await this.ingress?.close().catch(() => undefined);
    await proxy.close().catch(() => undefined);
    await runtimes.close().catch(() => undefined);
    await session.close({ removeAll, keepLogs });
    if (removeAll) removeStateDir(session.paths, { keepLogs });
  }
}
