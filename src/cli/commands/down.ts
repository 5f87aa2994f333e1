// `herd down`: stop everything and end the project's daemon; also cleans up after a killed one.
import { rmSync } from 'node:fs';
import type { Command } from 'commander';
import { loadProject } from '../../compose/load.ts';
import type { Project } from '../../compose/model.ts';
import type { ServicesResponse } from '../../daemon/api-types.ts';
import { loadOptionsOf, locateDaemon, type ProjectFlags } from '../../daemon/locate.ts';
import { TIMEOUT_FLAG, TIMEOUT_HELP, timeoutBody } from '../../daemon/lifecycle-client.ts';
import { stopOrphans } from '../../daemon/orphans.ts';
import { orphanProcesses } from '../../daemon/session.ts';
import { removeStateDir } from '../../daemon/paths.ts';
import { forgetStateDir } from '../../daemon/registry.ts';
import { readState } from '../../daemon/state-file.ts';
import { probeSocket } from '../../daemon/client.ts';
import { createRuntimes, dockerServices, type Runtimes } from '../../runtime/choose.ts';
import { cgroups } from '../../runtime/process/cgroups.ts';
import { stopLeftProxy } from '../../proxy/index.ts';
import { HerdError } from '../../util/errors.ts';
import { isSameProcess, processStartTime, readStat } from '../../util/process-identity.ts';

export function registerDown(program: Command): void {
  program
    .command('down')
    .description("stop and remove all replicas and stop the project's daemon")
    .option('-v, --volumes', 'also remove named volumes (Docker runtime)')
    .option(TIMEOUT_FLAG, TIMEOUT_HELP)
    .addHelpText(
      'after',
      `
Services stop in reverse dependency order. When the daemon was killed, \`down\` still stops the
replicas it left running (only processes whose PID and start time match its records) and removes
the project's containers and network from the Docker engine.

Examples:
  $ herd down
  $ herd down --volumes
  $ herd down -t 0                 # no grace period: SIGKILL at once`,
    )
    .action(async (opts: { volumes?: boolean; timeout?: string }, cmd: Command) => {
      const volumes = Boolean(opts.volumes);
      const timeout = timeoutBody(opts.timeout);
      const { client, paths, project } = await locateDaemon(cmd);
      const ping = await probeSocket(paths.socket);
      if (ping) {
        // Not when the daemon is an ancestor of this `herd down` (a replica's command, a test
        // harness serving the API itself): it cannot end before its descendant returns.
        const started = ancestorOfUs(ping.pid) ? undefined : processStartTime(ping.pid);
        const r = await client.post<ServicesResponse>('/v1/down', { volumes, ...timeout });
        for (const n of r.replicas) process.stdout.write(` ✔ ${n}  Removed\n`);
        // The daemon answers, then closes (its proxy, log tails, state dir): `down` returns once
        // it has, so nothing of the project runs after it.
        if (started !== undefined && !(await ended(ping.pid, started, DAEMON_EXIT_MS)))
          process.stderr.write(
            `herd: warning: the daemon of project ${project} (pid ${ping.pid}) stopped the ` +
              `replicas but had not exited ${DAEMON_EXIT_MS / 1000} s later\n`,
          );
        return;
      }
      // A socket nobody answers on is what a killed daemon leaves behind, and maybe its proxy,
      // still serving and trying to start it again: that ends first.
      rmSync(paths.socket, { force: true });
      if (await stopLeftProxy(paths.dir))
        process.stdout.write(` ✔ proxy of ${project}  Stopped (left by a dead daemon)\n`);
      const state = readState(paths.stateFile);
      const records = state?.replicas ?? [];
      const compose = await composeFor(cmd, project, records.length > 0);
      // Containers are removed through the engine below, not by signalling their PIDs.
      const result = await stopOrphans(compose ? orphanProcesses(compose, records) : records, {
        project,
      });
      // …and their cgroups, with anything that escaped the process groups.
      await cgroups.sweep(project);
      // Logs a stopped foreground `up` kept go too: down removes everything herd kept.
      removeStateDir(paths);
      forgetStateDir(paths.dir);
      for (const n of result.stopped)
        process.stdout.write(` ✔ ${n}  Removed (left by a dead daemon)\n`);
      const removed = compose ? await removeContainers(compose, volumes) : 0;
      if (result.stopped.length === 0 && removed === 0)
        process.stderr.write(`herd: no daemon running for project ${project}; nothing to stop\n`);
    });
}

/** How long `down` waits for the daemon to exit once it answered. */
const DAEMON_EXIT_MS = 15_000;

/** Resolves true once the process `pid` (started at `startTime`) is gone, false after `ms`. */
async function ended(pid: number, startTime: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isSameProcess(pid, startTime)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

function ancestorOfUs(pid: number): boolean {
  for (let p = process.ppid, hops = 0; p > 1 && hops < 64; hops++) {
    if (p === pid) return true;
    const parent = readStat(p)?.ppid;
    if (parent === undefined) return false;
    p = parent;
  }
  return false;
}

/** The compose file of `name`, when it can be read (`-p` works without one: then undefined). */
async function composeFor(cmd: Command, name: string, warn: boolean): Promise<Project | undefined> {
  const flags = cmd.optsWithGlobals<ProjectFlags>();
  try {
    return await loadProject({ ...loadOptionsOf(flags), projectName: name });
  } catch (err) {
    if (warn)
      process.stderr.write(
        `herd: warning: cannot read the compose file of project ${name}, so its containers ` +
          `stay (run \`herd down\` where the compose file is): ${(err as Error).message}\n`,
      );
    return undefined;
  }
}

/** Removes the project's containers and network (named volumes too with --volumes); returns
 * how many containers and networks went. */
async function removeContainers(project: Project, volumes: boolean): Promise<number> {
  if (dockerServices(project).length === 0) return 0;
  let rt: Runtimes;
  try {
    rt = await createRuntimes(project, { prepare: false });
  } catch (err) {
    // No engine to ask: whatever ran there is out of herd's reach; the processes are stopped.
    if (!(err instanceof HerdError)) throw err;
    process.stderr.write(
      `herd: warning: containers of project ${project.name} not removed: ${err.message}\n`,
    );
    return 0;
  }
  try {
    const gone = await rt.docker!.removeProject({ volumes });
    if (gone.containers > 0)
      process.stdout.write(` ✔ ${gone.containers} container(s) of ${project.name}  Removed\n`);
    if (gone.networks > 0)
      process.stdout.write(` ✔ ${gone.networks} network(s) of ${project.name}  Removed\n`);
    return gone.containers + gone.networks;
  } catch (err) {
    throw new HerdError(
      `could not remove the containers of project ${project.name}: ${(err as Error).message}; ` +
        'check the Docker engine and run `herd down` again',
      'RUNTIME',
    );
  } finally {
    await rt.close();
  }
}
