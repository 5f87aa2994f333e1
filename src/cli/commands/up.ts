// `herd up` in the foreground: start the project, print every replica's output, and on Ctrl-C
// stop everything gracefully in reverse dependency order (a second Ctrl-C kills at once).
import type { Command } from 'commander';
import { loadProject } from '../../compose/load.ts';
import type { Project, Service } from '../../compose/model.ts';
import type { Runtime } from '../../runtime/types.ts';
import { Engine } from '../../engine/engine.ts';
import type { EngineEvent } from '../../engine/events.ts';
import { LogPrinter, shouldColor } from '../../logs/printer.ts';
import { processRuntime } from '../../runtime/process/process-runtime.ts';
import { HerdError } from '../../util/errors.ts';
import type { GlobalOptions } from '../main.ts';

interface UpOptions {
  scale: string[];
  color: boolean;
  abortOnContainerExit?: boolean;
}

/** The load balancer in front of the engine, as `up` needs it. */
export interface FrontDoor {
  serviceAddresses(): Record<string, { host: string; port: number }>;
  attach(engine: Engine): void;
  close(): Promise<void>;
}

/**
 * HOOK for the lead: create and `listen()` the proxy here (createProxy(project) from src/proxy)
 * and return it. Until then `up` runs without a balancer and replicas are reached on their PORT.
 */
export async function openFrontDoor(_project: Project): Promise<FrontDoor | undefined> {
  return undefined;
}

/**
 * HOOK for the lead: the runtime per service. Only the process runtime is wired here; a service
 * that asks for Docker gets a clear error until the Docker runtime is connected.
 */
export function chooseRuntime(service: Service): Runtime {
  if (service.herd.runtime === 'docker') {
    throw new HerdError(
      `service "${service.name}" asks for the Docker runtime (x-herd: {runtime: docker}), which ` +
        '`herd up` cannot use yet; remove that setting and give it a `command:` to run it as a process',
    );
  }
  return processRuntime;
}

/** `web=3` → ['web', 3], with errors that say what is wrong and how to write it. */
export function parseScale(items: string[], project: Project): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) {
    const m = /^([^=]+)=(.*)$/.exec(item);
    if (!m) throw new HerdError(`--scale ${item}: expected SERVICE=N, e.g. --scale web=3`);
    const [, service = '', n = ''] = m;
    if (!project.services[service]) {
      throw new HerdError(
        `--scale ${item}: no such service "${service}" (services: ${Object.keys(project.services).join(', ')})`,
      );
    }
    if (!/^\d+$/.test(n)) {
      throw new HerdError(`--scale ${item}: "${n}" is not a whole number ≥ 0`);
    }
    out[service] = Number(n);
  }
  return out;
}

export function registerUp(program: Command): void {
  program
    .command('up')
    .description(
      'start the services (all, or the named ones and their dependencies) in the foreground',
    )
    .argument('[services...]', 'services to start (default: all)')
    .option('--scale <service=n>', 'run N replicas of a service (repeatable)', collect, [])
    .option('--no-color', 'plain output without colours')
    .option('--abort-on-container-exit', 'stop everything when any replica exits for good')
    .action(async (services: string[], opts: UpOptions) => {
      const g = program.opts<GlobalOptions>();
      const project = await loadProject({
        files: g.file,
        projectName: g.projectName,
        projectDirectory: g.projectDirectory,
        envFiles: g.envFile,
        profiles: g.profile,
        enableServices: services.length > 0 ? services : undefined,
      });
      process.exitCode = await runUp(project, services, opts);
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Runs the project until a signal (or, with --abort-on-container-exit, a replica exit); returns
 * the exit code. */
export async function runUp(
  project: Project,
  services: string[],
  opts: UpOptions,
): Promise<number> {
  for (const w of project.warnings) process.stderr.write(`herd: warning: ${w}\n`);
  const scale = parseScale(opts.scale, project);
  for (const s of services) {
    if (!project.services[s]) {
      throw new HerdError(
        `no such service: ${s} (services: ${Object.keys(project.services).join(', ')})`,
      );
    }
  }
  const frontDoor = await openFrontDoor(project);
  const engine = new Engine(project, {
    runtime: chooseRuntime,
    serviceAddresses: frontDoor ? () => frontDoor.serviceAddresses() : undefined,
  });
  const names = Object.values(project.services).flatMap((s) =>
    Array.from({ length: scale[s.name] ?? s.scale }, (_, i) => `${s.name}-${i + 1}`),
  );
  const printer = new LogPrinter({
    color: shouldColor(opts.color, process.stdout.isTTY, process.env),
    write: (t) => process.stdout.write(t),
    names,
  });
  // --scale is applied before the printer listens: it is the starting point, not a change.
  for (const [service, n] of Object.entries(scale)) engine.setScale(service, n);
  engine.on('event', (e) => printer.handle(e));
  frontDoor?.attach(engine);

  let finish!: (code: number) => void;
  const finished = new Promise<number>((resolve) => (finish = resolve));
  let stopping = false;
  const stopAll = (code: number, message: string): void => {
    if (stopping) return;
    stopping = true;
    printer.say(message);
    void engine
      .shutdown()
      .then(() => frontDoor?.close())
      .then(
        () => finish(code),
        () => finish(code || 1),
      );
  };
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

  engine.on('event', (e: EngineEvent) => {
    if (stopping || e.type !== 'replica') return;
    const all = engine.replicas();
    if (opts.abortOnContainerExit && e.replica.state === 'exited') {
      stopAll(e.replica.lastExit?.exitCode ?? 1, 'Aborting on container exit...');
    } else if (all.length > 0 && all.every((r) => r.state === 'exited')) {
      // Like `docker compose up`: once nothing runs and nothing will restart, up returns.
      stopAll(0, 'All replicas have exited');
    }
  });

  // up() may never resolve (a dependency that never turns healthy): Ctrl-C must still end it.
  const started = engine.up(services.length > 0 ? services : undefined).then(
    () => undefined,
    (err: unknown) => err,
  );
  const failure = await Promise.race([started, finished.then(() => undefined)]);
  if (failure !== undefined) {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await engine.shutdown();
    await frontDoor?.close();
    throw failure;
  }
  const code = await finished;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  return code;
}
