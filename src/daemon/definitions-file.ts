// The record of which definition of each service is live (`definitions.json` in the state dir),
// written whenever an update, rollback or rolling restart changes state. A daemon that restarts
// after its predecessor died reads it: where the compose file still asks for the definition that
// was rolled back, the definition that was live runs again — not the one that failed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Project } from '../compose/model.ts';
import type { DefinitionRecord } from '../engine/engine.ts';
import type { EngineEvent } from '../engine/events.ts';
import { serviceHash } from '../engine/service-hash.ts';
import { HerdError } from '../util/errors.ts';
import type { EngineControl } from './control.ts';
import { RetriedWrite } from './retried-write.ts';
import { writeState, type DaemonState } from './state-file.ts';
import type { DaemonWarnings } from './warnings.ts';

export const DEFINITIONS_FILE = 'definitions.json';

interface DefinitionsContent {
  version: 1;
  project: string;
  services: DefinitionRecord[];
}

export function definitionsFile(stateDir: string): string {
  return join(stateDir, DEFINITIONS_FILE);
}

/** The recorded definitions; none when there is no record. A corrupt one is a HerdError. */
export function readDefinitions(file: string, project: string): DefinitionRecord[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new HerdError(`cannot read ${file}: ${(err as Error).message}`, 'STATE');
  }
  const corrupt = (why: string) =>
    new HerdError(
      `${file} is corrupt (${why}); remove it to run the compose file's definitions`,
      'STATE',
    );
  let raw: Partial<DefinitionsContent>;
  try {
    raw = JSON.parse(text) as Partial<DefinitionsContent>;
  } catch (err) {
    throw corrupt((err as Error).message);
  }
  if (raw?.version !== 1 || !Array.isArray(raw.services)) throw corrupt('not a version 1 record');
  if (raw.project !== project) return [];
  for (const r of raw.services) {
    const ok =
      typeof r === 'object' &&
      r !== null &&
      typeof r.service === 'string' &&
      typeof r.requested === 'string' &&
      typeof r.live === 'object' &&
      r.live !== null &&
      r.live.name === r.service;
    if (!ok) throw corrupt(`bad record ${JSON.stringify(r).slice(0, 80)}`);
  }
  return raw.services;
}

/** The records a new daemon takes over: those whose service the compose file still defines as
 * it did when they were written (a file changed since is applied as written, as Compose does). */
export function recordsToRestore(
  project: Project,
  records: DefinitionRecord[],
): DefinitionRecord[] {
  return records.filter((r) => {
    const inFile = project.services[r.service];
    return inFile !== undefined && serviceHash(inFile) === r.requested;
  });
}

/** Rewrites the record after every change of an update's state. A write that fails (a full
 * disk) is reported and retried, never thrown into the engine: the definitions in memory are the
 * ones that run, and the record only matters to a daemon that takes over later. */
export class DefinitionRecorder {
  private readonly listener = (e: EngineEvent) => {
    if (e.type === 'update') this.writer.flush();
  };
  private readonly writer: RetriedWrite;

  constructor(
    file: string,
    project: string,
    private readonly engine: EngineControl,
    warnings: DaemonWarnings,
  ) {
    this.writer = new RetriedWrite({
      file,
      key: 'definitions-write',
      what: 'the record of service definitions',
      meanwhile:
        'the services run as updated; a daemon that took over before it is written would run ' +
        'the definitions recorded last',
      warnings,
      write: () => {
        const content: DefinitionsContent = {
          version: 1,
          project,
          services: this.engine.definitionRecords?.() ?? [],
        };
        // writeState only serialises what it is given, atomically and 0600: the same guarantees.
        writeState(file, content as unknown as DaemonState);
      },
    });
  }

  attach(): void {
    this.engine.on('event', this.listener);
  }

  detach(): void {
    this.engine.off('event', this.listener);
    this.writer.close();
  }
}
