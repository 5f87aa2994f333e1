// `herd run`: a one-off replica of a service, as `docker compose run` starts a one-off container:
// named `<project>-<service>-run-<id>`, its dependencies started first (unless --no-deps), never
// in the balancer, attached to this terminal, its exit code herd's.
import type { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import type { PortSpec, Service, VolumeMount } from '../../compose/model.ts';
import { parseShortPort } from '../../compose/ports.ts';
import { parseShortVolume } from '../../compose/volumes.ts';
import { runtimeKind } from '../../compose/runtime-kind.ts';
import { splitShellWords } from '../../compose/shellwords.ts';
import type { ProjectFlags } from '../../daemon/locate.ts';
import { planReplica } from '../../runtime/env.ts';
import { HerdError } from '../../util/errors.ts';
import { runForeground } from '../foreground.ts';
import { parseEnvAssignments } from '../options.ts';
import { collect, checkServices, loaderFor } from '../up/options.ts';
import { dependencyEnv, startDependencies } from '../run-deps.ts';

interface RunOptions {
  rm?: boolean;
  TTY: boolean;
  env: string[];
  entrypoint?: string;
  deps: boolean;
  workdir?: string;
  user?: string;
  name?: string;
  detach?: boolean;
  volume: string[];
  publish: string[];
  servicePorts?: boolean;
}

/** Docker's rule for a container name. */
const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run a one-off command in a new replica of a service')
    .argument('<service>', 'the service')
    .argument('[command...]', "the command (default: the service's command)")
    .option('--rm', 'remove the one-off replica when it exits')
    .option('-T, --no-TTY', 'no terminal for the command, even when stdin is one')
    .option('-e, --env <KEY=VALUE>', 'set an environment variable (repeatable)', collect, [])
    .option('--entrypoint <command>', "override the service's entrypoint")
    .option('--no-deps', 'do not start the services it depends on')
    .option('-w, --workdir <dir>', "working directory (default: the service's)")
    .option('-u, --user <user>', "run as this user, name or uid[:gid] (default: the service's)")
    .option('--name <name>', 'name the one-off container (Docker services)')
    .option('-d, --detach', 'start the one-off container and print its name (Docker services)')
    .option('-v, --volume <spec>', 'mount a volume, as in the file (Docker services)', collect, [])
    .option('-p, --publish <spec>', 'publish a port, as in the file (Docker services)', collect, [])
    .option('--service-ports', "publish the service's own ports (Docker services)")
    .passThroughOptions()
    .addHelpText(
      'after',
      `
The one-off replica, <project>-<service>-run-<id>, gets the service's environment with HERD_REPLICA
set to run-<id>, its own PORT and the addresses of the other services; it takes no traffic from
the balancer. The services it depends on are started first (as \`herd up -d --wait\` would).
A process service's one-off runs here, in the foreground, and leaves nothing behind when it
ends (it never shows in \`herd ps\`). A Docker service's is a container, as \`docker compose run\`
creates one: the service's image (built first when it has build: and is not built yet), volumes,
networks, working_dir and user (plus -v's volumes), labelled com.docker.compose.oneoff=True,
publishing no port unless -p or --service-ports say so; it stays, exited, unless --rm; with -d
herd prints its name and returns once it started. Otherwise herd exits with its exit code.

Examples:
  $ herd run --rm web node migrate.js
  $ herd run --rm -T -e DEBUG=1 worker sh -c 'echo $HERD_SERVICE'
  $ herd run --no-deps --entrypoint "node --inspect" web app.js
  $ herd run --rm -T db psql -h db -U postgres -c 'select 1'   # a Docker service
  $ herd run -d --name nightly-report worker node report.js    # a Docker service, detached
  $ herd run --rm -v ./fixtures:/data:ro -p 127.0.0.1:9229:9229 api node --inspect=0.0.0.0 app.js`,
    )
    .action((service: string, argv: string[], opts: RunOptions) =>
      runOneOff(program.opts<ProjectFlags>(), service, argv, opts),
    );
}

/** `herd run`: the service's one-off, its dependencies started first; sets herd's exit code. */
async function runOneOff(
  flags: ProjectFlags,
  service: string,
  argv: string[],
  opts: RunOptions,
): Promise<void> {
  const project = await loaderFor(flags, [service])();
  checkServices(project, [service]);
  const definition = project.services[service]!;
  const docker = runtimeKind(definition) === 'docker';
  checkRunFlags(service, opts, docker);
  // Every flag checked before anything starts.
  const extra = parseEnvAssignments(opts.env);
  const volumes = runVolumes(opts.volume, project.workingDir);
  const publish = runPorts(opts, definition);
  if (opts.deps) await startDependencies(project, service, flags);
  const slug = randomBytes(32).toString('hex');
  const id = slug.slice(0, 8);
  if (docker) {
    const oneOff = withOverrides(definition, argv, opts, true);
    if (opts.workdir !== undefined) oneOff.workingDir = opts.workdir;
    oneOff.volumes = [...oneOff.volumes, ...volumes];
    const { dockerRun } = await import('../docker-run.ts');
    process.exitCode = await dockerRun(project, oneOff, {
      id,
      slug,
      tty: opts.TTY,
      rm: opts.rm === true,
      env: extra,
      name: opts.name,
      detach: opts.detach === true,
      publish,
    });
    return;
  }
  const oneOff = withOverrides(definition, argv, opts, false);
  const { spec } = await planReplica(project, oneOff, 1, {
    serviceAddresses: await dependencyEnv(project),
  });
  process.exitCode = await runForeground({
    argv: spec.command,
    env: { ...spec.env, HERD_REPLICA: `run-${id}`, ...extra },
    cwd: opts.workdir ?? spec.cwd,
    uid: spec.uid,
    gid: spec.gid,
    tty: opts.TTY,
  });
}

/** --name, --detach, --volume and the ports are about a container: a process one-off has no name
 * anyone sees (it is never listed), runs attached to this terminal, in the host's file system,
 * and listens on its own $PORT on the host. */
function checkRunFlags(service: string, opts: RunOptions, docker: boolean): void {
  if (opts.name !== undefined && !CONTAINER_NAME.test(opts.name))
    throw new HerdError(
      `--name ${JSON.stringify(opts.name)}: a container name is letters, digits, _ . and -, not starting with one of the last three`,
      'INVALID_ARGUMENT',
    );
  if (docker) return;
  const containerOnly: [string, boolean][] = [
    ['--detach', opts.detach === true],
    ['--name', opts.name !== undefined],
    ['--volume', opts.volume.length > 0],
    ['--publish', opts.publish.length > 0],
    ['--service-ports', opts.servicePorts === true],
  ];
  const flag = containerOnly.find(([, used]) => used)?.[0];
  if (flag)
    throw new HerdError(
      `${flag} is for a Docker service's one-off container; ${service} runs as a process here, ` +
        'attached to this terminal (for one that keeps running, add a service and `herd up -d` it)',
      'INVALID_ARGUMENT',
    );
}

/** -v mounts, in the file's short syntax (a relative source is the project folder's). */
function runVolumes(specs: string[], projectDir: string): VolumeMount[] {
  return specs.map((spec) => {
    const mount = parseShortVolume(spec, projectDir);
    if (typeof mount === 'string')
      throw new HerdError(`--volume ${spec}: ${mount}`, 'INVALID_ARGUMENT');
    return mount;
  });
}

/** The ports the one-off container publishes: -p's, and with --service-ports the service's own,
 * as `docker compose run` does (none otherwise). */
export function runPorts(
  opts: Pick<RunOptions, 'publish' | 'servicePorts'>,
  service: Service,
): PortSpec[] {
  const given = opts.publish.flatMap((spec) => {
    try {
      return parseShortPort(spec);
    } catch (err) {
      throw new HerdError(`--publish ${spec}: ${(err as Error).message}`, 'INVALID_ARGUMENT');
    }
  });
  return opts.servicePorts ? [...service.ports, ...given] : given;
}

/** The service as the one-off runs it: CMD… replaces `command`, --entrypoint `entrypoint`, -u
 * `user`. A container's --entrypoint without CMD… also drops the service's command, as Compose's
 * does (an image's CMD is meant for its own entrypoint). */
function withOverrides(
  service: Service,
  argv: string[],
  { entrypoint, user }: RunOptions,
  container: boolean,
): Service {
  const out = { ...service };
  if (user !== undefined) out.user = user;
  if (argv.length > 0) out.command = argv;
  else if (entrypoint !== undefined && container) out.command = undefined;
  if (entrypoint !== undefined) {
    try {
      out.entrypoint = splitShellWords(entrypoint);
    } catch (err) {
      throw new HerdError(
        `--entrypoint ${entrypoint}: ${(err as Error).message}`,
        'INVALID_ARGUMENT',
      );
    }
  }
  return out;
}
