// Builds Project/Service objects for tests without the compose loader.
import type { Project, Service } from '../../src/compose/model.ts';
import { defaultProject, defaultService } from '../../src/compose/defaults.ts';
import { tempDir } from './tmp.ts';

export function makeService(name: string, over: Partial<Service> = {}): Service {
  return { ...defaultService(name), stopGracePeriodMs: 2000, ...over };
}

export function makeProject(services: Service[], over: Partial<Project> = {}): Project {
  const name = `t${process.pid}${Math.floor(Math.random() * 1e6)}`;
  return { ...defaultProject(name, services, tempDir('test')), ...over };
}

/** `node -e <code>` as a command, so test apps need no files. */
export function nodeEval(code: string): string[] {
  return [process.execPath, '-e', code];
}
