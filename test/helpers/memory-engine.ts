// The real engine on the in-memory runtime and a fake clock, every event recorded: what unit
// tests of engine logic start from.
import type { Project } from '../../src/compose/model.ts';
import { Engine } from '../../src/engine/engine.ts';
import type { EngineEvent } from '../../src/engine/events.ts';
import { FakeClock, MemoryRuntime } from './memory-runtime.ts';

export function memoryEngine(project: Project) {
  const clock = new FakeClock();
  const runtime = new MemoryRuntime(clock);
  const engine = new Engine(project, {
    runtime,
    clock,
    healthWatch: runtime.healthWatch,
    listenWatch: runtime.listenWatch,
    baseEnv: {},
  });
  const events: EngineEvent[] = [];
  engine.on('event', (e) => events.push(e));
  return { clock, runtime, engine, events };
}
