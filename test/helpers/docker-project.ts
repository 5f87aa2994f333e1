// Builds Project/Service models by hand for Docker runtime tests (no compose file needed) and a
// ReplicaSpec the way the engine will make one.
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import type { Project, Service } from '../../src/compose/model.ts';
import type { ReplicaSpec } from '../../src/runtime/types.ts';
import { defaultProject, defaultService } from '../../src/compose/defaults.ts';

export function uniqueProjectName(prefix = 'herdt'): string {
  return `${prefix}${randomBytes(4).toString('hex')}`;
}

export function testService(name: string, overrides: Partial<Service> = {}): Service {
  return { ...defaultService(name), ...overrides };
}

export function testProject(name: string, services: Service[], workingDir = tmpdir()): Project {
  return {
    ...defaultProject(name, services, workingDir),
    composeFiles: [`${workingDir}/compose.yaml`],
  };
}

export function specFor(
  project: Project,
  service: string,
  index = 1,
  extra: Partial<ReplicaSpec> = {},
): ReplicaSpec {
  const s = project.services[service]!;
  return {
    project: project.name,
    service,
    index,
    name: `${project.name}-${service}-${index}`,
    command: s.command ?? [],
    env: { ...s.environment },
    cwd: project.workingDir,
    stopSignal: s.stopSignal,
    stopGracePeriodMs: s.stopGracePeriodMs,
    ...extra,
  };
}
