// Which definition of each service is live, which one it replaced (what a rollback goes back to),
// which one the compose file asked for last, and where each service's last update stands. The
// engine's project holds the live definitions; this keeps the rest, and the daemon records all of
// it in the state dir so a daemon that restarts runs what was live, not what was rolled back.
import type { Project, Service } from '../compose/model.ts';
import type { EventHub } from './event-hub.ts';
import type { UpdateStatus } from './events.ts';
import { serviceHash } from './service-hash.ts';

/** One service's definitions, as the daemon records them. */
export interface DefinitionRecord {
  service: string;
  live: Service;
  previous?: Service;
  /** Hash of the definition the compose file gave last (service-hash.ts): when it is not the
   * live one's, an update of it failed and was rolled back, or `herd rollback` went back. */
  requested: string;
  update?: UpdateStatus;
}

export class Definitions {
  private readonly previous = new Map<string, Service>();
  private readonly requested = new Map<string, string>();
  private readonly statuses = new Map<string, UpdateStatus>();

  constructor(private readonly hub: EventHub) {}

  /** The compose file asked for `next` (which becomes live; `before` is kept for a rollback). */
  requestedChange(before: Service | undefined, next: Service): void {
    if (before) this.previous.set(next.name, before);
    this.requested.set(next.name, serviceHash(next));
  }

  /** `service` becomes live in place of `current`, which becomes the previous one (a swap). */
  swapped(current: Service, service: Service): void {
    this.previous.set(service.name, current);
  }

  previousOf(name: string): Service | undefined {
    return this.previous.get(name);
  }

  forget(name: string): void {
    this.previous.delete(name);
    this.requested.delete(name);
    this.statuses.delete(name);
  }

  status(s: Omit<UpdateStatus, 'at'>): void {
    const update: UpdateStatus = { ...s, at: this.hub.clock.now() };
    this.statuses.set(s.service, update);
    this.hub.emit({ type: 'update', at: update.at, update });
  }

  updates(): UpdateStatus[] {
    return [...this.statuses.values()].map((u) => ({ ...u }));
  }

  records(project: Project): DefinitionRecord[] {
    return Object.values(project.services).map((live) => {
      const previous = this.previous.get(live.name);
      const update = this.statuses.get(live.name);
      return {
        service: live.name,
        live,
        ...(previous ? { previous } : {}),
        requested: this.requested.get(live.name) ?? serviceHash(live),
        ...(update ? { update } : {}),
      };
    });
  }

  /** A restarted daemon takes over what its predecessor recorded. */
  restore(r: DefinitionRecord): void {
    if (r.previous) this.previous.set(r.service, r.previous);
    this.requested.set(r.service, r.requested);
    if (r.update) this.statuses.set(r.service, r.update);
  }
}
