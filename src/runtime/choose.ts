// Which runtime runs which service: the process runtime by default; Docker for services with
// `image`/`build` when an engine answers (see issue 6), or when `x-herd.runtime` says so.
import type { Project, Service } from '../compose/model.ts';
import type { Runtime } from './types.ts';
import { processRuntime } from './process/process-runtime.ts';
import { HerdError } from '../util/errors.ts';

export interface Runtimes {
  /** The runtime for one service (throws a HerdError when it cannot be had). */
  forService(service: Service): Runtime;
  /** `herd down`: remove what the runtimes created for the project (containers, networks, and
   * named volumes only when `volumes` is set). */
  down(opts: { volumes: boolean }): Promise<void>;
  close(): Promise<void>;
}

export async function createRuntimes(
  _project: Project,
  _opts: { onProgress?: (service: string, line: string) => void } = {},
): Promise<Runtimes> {
  return {
    forService(service) {
      if (service.herd.runtime === 'docker') {
        throw new HerdError(
          `service "${service.name}" asks for the Docker runtime (x-herd: {runtime: docker}), ` +
            'which is not connected yet; remove that setting and give it a `command:` to run it as a process',
        );
      }
      return processRuntime;
    },
    async down() {},
    async close() {},
  };
}
