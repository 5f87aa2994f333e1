// `herd up -d`: start the daemon in the background, or — when one already runs — hand it the
// file's changes, the new scale and the services to start; then wait until the stack is up.
import type { Project } from '../../compose/model.ts';
import type { PsResponse, ServicesResponse } from '../../daemon/api-types.ts';
import { DaemonClient, probeSocket } from '../../daemon/client.ts';
import { startDetached } from '../../daemon/detach.ts';
import { pathsFor } from '../../daemon/paths.ts';
import { dependencyOrder } from '../../engine/deps.ts';
import { dockerServices } from '../../runtime/choose.ts';
import { HerdError, isHerdError } from '../../util/errors.ts';
import { formatStatus } from '../format/status.ts';
import { waitForStack } from './wait.ts';

/** How long a failed `up -d` waits to hear that its daemon exited, to say why (its log). */
const EXIT_NEWS_MS = 15_000;

export interface DetachRequest {
  project: Project;
  services: string[];
  scale: Record<string, number>;
  scaleArgs: string[];
  global: string[];
  wait: boolean;
  build: boolean;
  waitTimeoutMs?: number;
}

/** True when a daemon for the project answers on its socket. */
export async function daemonRunning(project: Project): Promise<boolean> {
  return (await probeSocket(pathsFor(project.name).socket)) !== undefined;
}

export async function startInBackground(req: DetachRequest): Promise<void> {
  const paths = pathsFor(req.project.name);
  const args = [...req.global, 'up', '--foreground-daemon'];
  for (const s of req.scaleArgs) args.push('--scale', s);
  if (req.build) args.push('--build');
  const daemon = await startDetached({
    args: [...args, ...req.services],
    paths,
    project: req.project.name,
    cwd: process.cwd(),
    // The daemon answers once its images are built or pulled, which can take minutes.
    timeoutMs: dockerServices(req.project).length > 0 ? 15 * 60_000 : undefined,
    // Building or pulling images takes a while: show their progress as the daemon logs it.
    onLog:
      dockerServices(req.project).length > 0
        ? (line) => process.stderr.write(`${line}\n`)
        : undefined,
  });
  if (daemon.won) {
    process.stdout.write(` ✔ herd daemon for ${req.project.name} started (pid ${daemon.pid})\n`);
    // The daemon answers before it has opened everything (metrics, dashboard, ingress): one
    // that fails there exits, and its reason is in its log, not in the "not running" that follows.
    await awaitStack(req).catch(async (err: unknown) => {
      // Gone (its socket refused): wait to hear how it ended — it may still be closing down.
      const exit = await daemon.exited(isHerdError(err, 'NO_DAEMON') ? EXIT_NEWS_MS : 0);
      if (exit === undefined) throw err;
      throw new HerdError(
        `the herd daemon for project ${req.project.name} stopped during start-up (${exit}); ` +
          `last lines of ${paths.daemonLog}:\n${daemon.logTail()}`,
        'FAILED',
      );
    });
    return;
  }
  // Another daemon started at the same moment (the proxy reviving a killed one, or a second
  // `herd up -d`) and holds the state dir: it is this stack's daemon, so hand it this `up`.
  process.stdout.write(
    ` ✔ herd daemon for ${req.project.name} was starting already (pid ${daemon.pid}); ` +
      'applying to it\n',
  );
  await updateRunning(req);
}

/** `herd up` while the daemon runs: apply the compose file, scale, start what is stopped. */
export async function updateRunning(req: DetachRequest): Promise<void> {
  const client = new DaemonClient(pathsFor(req.project.name).socket, req.project.name);
  // The daemon built its images when it started; rebuilding under running containers (and
  // rolling them onto the new image) is not something `apply` does, so say what works instead.
  const built = Object.values(req.project.services).filter((s) => s.build !== undefined);
  if (req.build && built.length > 0)
    throw new HerdError(
      `--build: the daemon of project ${req.project.name} is already running and keeps the ` +
        `images it built at start (${built.map((s) => s.name).join(', ')}); ` +
        'run `herd down`, then `herd up --build`',
      'CONFLICT',
    );
  // The project as this `up` loaded it — its -f, --profile, --env-file and environment — not as
  // the daemon would re-read it with the flags it was started with.
  await client.post<ServicesResponse>('/v1/apply', { project: req.project });
  if (Object.keys(req.scale).length > 0) await client.post('/v1/scale', req.scale);
  await client.post<ServicesResponse>('/v1/start', {
    services: req.services.length ? req.services : undefined,
  });
  await awaitStack(req);
}

async function awaitStack(req: DetachRequest): Promise<void> {
  const client = new DaemonClient(pathsFor(req.project.name).socket, req.project.name);
  const services = dependencyOrder(
    req.project,
    req.services.length ? req.services : Object.keys(req.project.services),
  );
  const ps = await waitForStack(
    client,
    services,
    req.wait ? 'ready' : 'started',
    req.waitTimeoutMs,
  );
  report(ps, services);
}

function report(ps: PsResponse, services: string[]): void {
  const rows = ps.replicas.filter((r) => services.includes(r.service) && r.state !== 'removed');
  const width = Math.max(0, ...rows.map((r) => r.name.length));
  for (const r of rows)
    process.stdout.write(` ✔ ${r.name.padEnd(width)}  ${formatStatus(r, ps.now)}\n`);
}
