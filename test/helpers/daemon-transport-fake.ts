// A deliberately minimal EngineControl for testing the daemon's transport (socket, permissions,
// JSON, streaming) — NOT engine behaviour. It records calls and keeps a hand-set replica list;
// the real Engine replaces it at integration.
import { EventEmitter } from 'node:events';
import type { Project, Service } from '../../src/compose/model.ts';
import type { EngineEvent, ReplicaInfo } from '../../src/engine/events.ts';
import type { EngineControl } from '../../src/daemon/control.ts';
import { defaultProject, defaultService } from '../../src/compose/defaults.ts';

export class TransportTestEngine extends EventEmitter implements EngineControl {
  calls: string[] = [];
  list: ReplicaInfo[] = [];

  replicas(): ReplicaInfo[] {
    return this.list.map((r) => ({ ...r }));
  }
  setScale(service: string, n: number): void {
    this.calls.push(`setScale ${service} ${n}`);
  }
  async stopServices(services?: string[]): Promise<void> {
    this.calls.push(`stop ${services?.join(',') ?? '*'}`);
  }
  async startServices(services?: string[]): Promise<void> {
    this.calls.push(`start ${services?.join(',') ?? '*'}`);
  }
  async restartServices(services?: string[]): Promise<void> {
    this.calls.push(`restart ${services?.join(',') ?? '*'}`);
  }
  killServices(signal: NodeJS.Signals, services?: string[]): void {
    this.calls.push(`kill ${signal} ${services?.join(',') ?? '*'}`);
    for (const r of this.list)
      if (r.pid && (!services || services.includes(r.service))) process.kill(r.pid, signal);
  }
  async apply(project: Project): Promise<void> {
    this.calls.push(`apply ${Object.keys(project.services).join(',')}`);
  }
  async shutdown(): Promise<void> {
    this.calls.push('shutdown');
  }
  emitEvent(e: EngineEvent): void {
    this.emit('event', e);
  }
}

export function testService(name: string, extra: Partial<Service> = {}): Service {
  return { ...defaultService(name), command: ['true'], ...extra };
}

export function testProject(name: string, services: Service[]): Project {
  return defaultProject(name, services, '/tmp');
}

export function replica(
  project: string,
  service: string,
  index: number,
  extra: Partial<ReplicaInfo> = {},
): ReplicaInfo {
  return {
    service,
    index,
    name: `${project}-${service}-${index}`,
    state: 'running',
    health: 'none',
    host: '127.0.0.1',
    ports: {},
    restarts: 0,
    startedAt: Date.now(),
    ...extra,
  };
}
