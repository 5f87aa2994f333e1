// Runs the project in this process: the balancer, the runtimes, the engine and the daemon's
// control API (so `herd ps`/`scale`/`logs` work against a foreground `herd up` too). Used by the
// foreground `herd up` (output to the console) and by the detached daemon `up -d` starts.
import type { Project } from '../../compose/model.ts';
import { DaemonClient } from '../../daemon/client.ts';
import { removeStateDir } from '../../daemon/paths.ts';
import { prepareDaemon, type DaemonSession } from '../../daemon/session.ts';
import { Engine } from '../../engine/engine.ts';
import type { EngineEvent } from '../../engine/events.ts';
import { LogPrinter, shouldColor } from '../../logs/printer.ts';
import type { Proxy } from '../../proxy/index.ts';
import { createRuntimes, type Runtimes } from '../../runtime/choose.ts';
import { openFrontDoor } from './front-door.ts';

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
  abortOnContainerExit?: boolean;
}

interface Parts {
  session: DaemonSession;
  proxy?: Proxy;
  runtimes?: Runtimes;
}

/** Closes what was opened, in reverse order; `removeAll` also forgets the recorded state, and
 * the replicas' logs unless `keepLogs` (a stack stopped by Ctrl-C keeps them for `herd logs`, as
 * Compose's stopped containers keep theirs; `down` removes them). */
async function closeParts(p: Parts, removeAll: boolean, keepLogs = false): Promise<void> {
  await p.proxy?.close().catch(() => undefined);
  await p.runtimes?.close().catch(() => undefined);
  await p.session.close({ removeAll, keepLogs });
  if (removeAll) removeStateDir(p.session.paths, { keepLogs });
}

/** Removes the project's containers and network; a failure is reported, not fatal. */
async function removeOwnResources(runtimes: Runtimes, printer: LogPrinter): Promise<void> {
  try {
    await runtimes.down({ volumes: false });
  } catch (err) {
    printer.say(
      `could not remove the project's containers or network: ` +
        `${err instanceof Error ? err.message : String(err)}; \`herd down\` retries`,
    );
  }
}

/** Runs until Ctrl-C / SIGTERM, `herd down`, or (foreground) every replica exited; returns the
 * exit code. */
export async function runStack(project: Project, opts: StackOptions): Promise<number> {
  for (const w of project.warnings) process.stderr.write(`herd: warning: ${w}\n`);
  // Before any replica starts: a dead predecessor's replicas are stopped here.
  const session = await prepareDaemon(project);
  const parts: Parts = { session };
  const names = Object.values(project.services).flatMap((s) =>
    Array.from({ length: opts.scale[s.name] ?? s.scale }, (_, i) => `${s.name}-${i + 1}`),
  );
  const printer = new LogPrinter({
    color: opts.console && shouldColor(opts.color, process.stdout.isTTY, process.env),
    write: (t) => process.stdout.write(t),
    names,
  });
  for (const n of session.orphans.stopped)
    printer.say(`Stopped ${n}, left running by a herd daemon that died`);
  try {
    parts.proxy = await openFrontDoor(project);
    parts.runtimes = await createRuntimes(project, {
      build: opts.build,
      onProgress: (service, line) => printer.say(`${service}: ${line}`),
    });
  } catch (err) {
    await closeParts(parts, false);
    throw err;
  }
  const { proxy, runtimes } = parts;
  const engine = new Engine(project, {
    runtime: (s) => runtimes.forService(s),
    serviceAddresses: () => proxy.serviceAddresses(),
  });
  engine.on('event', (e) => {
    if (opts.console || e.type !== 'output') printer.handle(e);
  });
  proxy.attach(engine);

  let finish!: (code: number) => void;
  const finished = new Promise<number>((resolve) => (finish = resolve));
  let stopping = false;
  let downing = false;
  const stopAll = (code: number, message: string): void => {
    if (stopping) return;
    stopping = true;
    printer.say(message);
    void engine
      .shutdown()
      // The state dir goes, so herd's own containers and `<project>_default` network go too
      // (named volumes stay, as with `docker compose down`).
      .then(() => removeOwnResources(runtimes, printer))
      .then(() => closeParts(parts, true, true))
      .then(
        () => finish(code),
        () => finish(code || 1),
      );
  };

  // A previous daemon that died left its desired state: bring the stack back to it.
  const keep = session.previous !== undefined;
  try {
    await serveControl();
  } catch (err) {
    await closeParts(parts, false);
    throw err;
  }

  async function serveControl(): Promise<void> {
    await session.serve(engine, {
      reload: opts.reload,
      prepareApply: async (next) => {
        await runtimes.apply(next);
        return proxy.apply(next);
      },
      keepRecorded: keep,
      traffic: () =>
        new Map(
          proxy.stats().map((t) => [
            t.replica,
            {
              requests: t.requests,
              errors: t.errors,
              inFlight: t.inFlight,
              connections: t.connections,
            },
          ]),
        ),
      // `herd down`: the server awaits this before answering, so `down` returns once the
      // containers and network are gone…
      removeResources: async ({ volumes }) => {
        // A Ctrl-C already under way removes them and ends the stack itself.
        if (stopping) return;
        stopping = true;
        downing = true;
        printer.say('Stopped by `herd down`');
        await runtimes.down({ volumes });
      },
      // …then, once it answered, the daemon ends.
      onDown: () => {
        if (!downing) return;
        void closeParts(parts, true).then(
          () => finish(0),
          (err: unknown) => {
            printer.say(`herd down: ${err instanceof Error ? err.message : String(err)}`);
            finish(1);
          },
        );
      },
    });
    // --scale goes through the control API so the recorded state (and `ps`) know it too.
    if (Object.keys(opts.scale).length > 0)
      await new DaemonClient(session.paths.socket, project.name).post('/v1/scale', opts.scale);
  }

  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      // Second Ctrl-C: no more waiting for grace periods.
      printer.say('Killing everything now');
      engine.killAll();
      process.exit(signal === 'SIGINT' ? 130 : 137);
    }
    stopAll(signal === 'SIGINT' ? 130 : 0, 'Gracefully stopping... (press Ctrl+C again to force)');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A closed terminal stops a foreground stack gracefully instead of orphaning its replicas.
  if (opts.console) process.on('SIGHUP', onSignal);

  if (opts.console) {
    engine.on('event', (e: EngineEvent) => {
      if (stopping || e.type !== 'replica') return;
      const all = engine.replicas();
      if (opts.abortOnContainerExit && e.replica.state === 'exited') {
        stopAll(e.replica.lastExit?.exitCode ?? 1, 'Aborting on container exit...');
      } else if (
        all.length > 0 &&
        all.every((r) => r.state === 'exited') &&
        // `herd stop` from another terminal leaves the stack to `herd start`, not the end.
        !all.some((r) => r.reason === 'stopped')
      ) {
        // Like `docker compose up`: once nothing runs and nothing will restart, up returns.
        stopAll(0, 'All replicas have exited');
      }
    });
  }

  // What the dead predecessor recorded, minus services the compose file no longer has.
  const known = (svc: string) => svc in project.services;
  const recorded = keep ? session.previous : undefined;
  const stopped = (recorded?.stopped ?? []).filter(known);
  const scales = Object.fromEntries(
    Object.entries(recorded?.scale ?? {}).filter(([svc]) => known(svc)),
  );
  // `herd up web` starts web (and its dependencies) even when it was recorded stopped.
  const held = stopped.filter((svc) => !opts.services.includes(svc));
  // up() may never resolve (a dependency that never turns healthy): Ctrl-C must still end it.
  const started = engine
    .up(opts.services.length > 0 ? opts.services : undefined, { scales, stopped: held })
    .then(
      () => undefined,
      (err: unknown) => err,
    );
  const failure = await Promise.race([started, finished.then(() => undefined)]);
  if (failure !== undefined) {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    stopping = true;
    await engine.shutdown();
    // Nothing ran: keep what a dead predecessor recorded for the next attempt.
    if (!keep) await removeOwnResources(runtimes, printer);
    await closeParts(parts, !keep);
    throw failure;
  }
  const code = await finished;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('SIGHUP', onSignal);
  return code;
}
