// The routes that replace or end the whole project: `apply` (a re-read compose file) and `down`.
import type { ServerResponse } from 'node:http';
import type { Project } from '../../compose/model.ts';
import type { ServicesResponse } from '../api-types.ts';
import type { ApiContext } from './context.ts';
import { ApiError, send } from './http.ts';
import { stopOptions } from './services.ts';

export class ProjectRoutes {
  constructor(private readonly ctx: ApiContext) {}

  /** Stops everything, removes the runtimes' resources, answers, then lets the daemon exit. */
  async down(body: unknown, res: ServerResponse): Promise<void> {
    const b = (body ?? {}) as { volumes?: unknown; timeout?: unknown };
    const volumes = Boolean(b.volumes);
    const stop = stopOptions(b.timeout);
    this.ctx.downing = true; // only once the request is valid: a refused down changes nothing
    const { engine, opts } = this.ctx;
    const names = engine.replicas().map((r) => r.name);
    await engine.shutdown(stop);
    // Containers and network go before the answer, so `herd down` returns once they are gone.
    const removal = (opts.removeResources?.({ volumes }) ?? Promise.resolve()).then(
      () => undefined,
      (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
    );
    // The engine is down: whatever happens next, the daemon exits once the removal ended and
    // the answer went out (or the client gave up waiting).
    let told = false;
    const exit = () => {
      if (told) return;
      told = true;
      void removal.then(() => opts.onDown?.({ volumes }));
    };
    res.on('finish', exit);
    res.on('close', exit);
    if (res.destroyed) exit();
    const failed = await removal;
    if (failed)
      throw new ApiError(
        500,
        `stopped every replica but could not remove the project's containers or network: ` +
          `${failed.message}; run \`herd down\` again`,
        'RUNTIME',
      );
    send(res, 200, { services: Object.keys(this.ctx.project.services), replicas: names });
  }

  /** The client sends the project it loaded (with its own flags and environment, as Compose's
   * CLI does); without one, the daemon re-reads the files it was started with. */
  async apply(body: unknown): Promise<ServicesResponse> {
    const next = await this.nextProject(body);
    const { project, engine, opts } = this.ctx;
    if (next.name !== project.name)
      throw new ApiError(
        409,
        `this daemon runs project ${project.name}, not ${next.name}; ` +
          'run `herd down` then `herd up` to switch projects',
        'CONFLICT',
      );
    const finish = (await opts.prepareApply?.(next)) ?? (async () => undefined);
    try {
      await engine.apply(next);
    } finally {
      try {
        await finish();
      } finally {
        // A rollback leaves the previous definition of a service live, not the file's.
        this.ctx.project = engine.project ?? next;
      }
    }
    return {
      services: Object.keys(next.services),
      replicas: engine.replicas().map((r) => r.name),
    };
  }

  private async nextProject(body: unknown): Promise<Project> {
    const sent = (body as { project?: unknown } | undefined)?.project;
    if (sent !== undefined) {
      if (!isProjectShape(sent))
        throw new ApiError(400, 'apply: "project" is not a herd project', 'INVALID_ARGUMENT');
      return sent;
    }
    if (this.ctx.opts.reload) return this.ctx.opts.reload();
    throw new ApiError(501, 'this daemon cannot re-read its compose file', 'FAILED');
  }
}

function isProjectShape(p: unknown): p is Project {
  const o = p as Partial<Project> | null;
  return (
    typeof o === 'object' &&
    o !== null &&
    typeof o.name === 'string' &&
    typeof o.workingDir === 'string' &&
    typeof o.services === 'object' &&
    o.services !== null &&
    Array.isArray(o.warnings)
  );
}
