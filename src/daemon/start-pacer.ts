// Replica starts in small batches. A hundred Node processes booting at once on a 2-core machine
// each get 2 % of a core: the replicas already serving starve among them, and so does whatever
// else the machine runs. So at most `batch` replicas boot at a time: a start waits until one of
// those before it is ready (or has exited), or has had `holdMs` to boot, whichever comes first.
import type { EngineEvent } from '../engine/events.ts';
import type { ReplicaSpec, Runtime } from '../runtime/types.ts';

/** Replicas booting at once: two per core, at least 4. */
/** The longest a booting replica holds up the next start while it is not ready yet. */
export const START_HOLD_MS = 2000;

export function defaultBatch(cores: number): number {
  return Math.max(4, 2 * cores);
}

export class StartPacer {
  /** `service#index` of replicas booting → their release. */
  private readonly booting = new Map<string, () => void>();
  private readonly queue: (() => void)[] = [];

  constructor(
    private readonly batch: number,
    private readonly holdMs: number,
  ) {}

  private readonly wrapped = new WeakMap<Runtime, Runtime>();

  /** The same runtime, whose starts wait for their turn. */
  wrap(rt: Runtime): Runtime {
    const known = this.wrapped.get(rt);
    if (known) return known;
    const paced: Runtime = {
      kind: rt.kind,
      start: async (spec) => {
        await this.turn(spec);
        return rt.start(spec);
      },
    };
    if (rt.adopt) paced.adopt = (spec) => rt.adopt!(spec);
    if (rt.remove) paced.remove = (spec, opts) => rt.remove!(spec, opts);
    this.wrapped.set(rt, paced);
    return paced;
  }

  /** Feed it the engine's events: a replica that is ready or gone lets the next one start. */
  readonly onEvent = (e: EngineEvent): void => {
    if (e.type === 'ready') this.done(e.replica.service, e.replica.index);
    else if (
      e.type === 'replica' &&
      e.replica.state !== 'starting' &&
      e.replica.state !== 'running'
    )
      this.done(e.replica.service, e.replica.index);
  };

  private done(service: string, index: number): void {
    this.booting.get(`${service}#${index}`)?.();
  }

  private turn(spec: ReplicaSpec): Promise<void> {
    return new Promise((resolve) => {
      const go = (): void => {
        const key = `${spec.service}#${spec.index}`;
        this.booting.get(key)?.(); // a restart of the same slot replaces its earlier turn
        const timer = setTimeout(() => release(), this.holdMs);
        timer.unref();
        const release = (): void => {
          if (this.booting.get(key) !== release) return;
          clearTimeout(timer);
          this.booting.delete(key);
          this.queue.shift()?.();
        };
        this.booting.set(key, release);
        resolve();
      };
      if (this.booting.size < this.batch) go();
      else this.queue.push(go);
    });
  }
}
