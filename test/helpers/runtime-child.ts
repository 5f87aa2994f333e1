// A stand-in for a daemon that is about to die: starts process replicas (one per spec in argv[3..])
// through the real ProcessRuntime (output to files in argv[2]) and passes on their output lines on
// stdout as `out <stream> <line>`, after `pid <n>` for each; the test then kill -9s this process,
// and a new AdoptionPool takes the replicas over.
import { ProcessRuntime } from '../../src/runtime/process/process-runtime.ts';
import type { ReplicaSpec } from '../../src/runtime/types.ts';

const [outputDir, ...specs] = process.argv.slice(2);
const runtime = new ProcessRuntime({ outputDir: outputDir! });
for (const spec of specs) {
  const handle = await runtime.start(JSON.parse(spec) as ReplicaSpec);
  process.stdout.write(`pid ${handle.pid}\n`);
  handle.onOutput((stream, line) => process.stdout.write(`out ${stream} ${line}\n`));
}
// Stays until killed (the test's kill -9 is the point).
setInterval(() => undefined, 60_000);
