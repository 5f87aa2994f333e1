// Compose's defaults for a service, before any key of the file is read: one place for the loader
// and for code (tests, benchmarks) that builds a Service by hand.
import type { Project, Service } from './model.ts';
import { defaultHerdExtension } from './herd-ext.ts';

export function defaultService(name: string): Service {
  return {
    name,
    environment: {},
    ports: [],
    expose: [],
    scale: 1,
    restart: { condition: 'no' },
    dependsOn: {},
    stopSignal: 'SIGTERM',
    stopGracePeriodMs: 10_000,
    resources: { limits: {}, reservations: {} },
    profiles: [],
    labels: {},
    volumes: [],
    herd: defaultHerdExtension(),
  };
}

/** A project holding `services`, with nothing else set. */
export function defaultProject(name: string, services: Service[], workingDir: string): Project {
  return {
    name,
    workingDir,
    composeFiles: [],
    services: Object.fromEntries(services.map((s) => [s.name, s])),
    volumes: {},
    herd: { extra: {} },
    warnings: [],
  };
}
