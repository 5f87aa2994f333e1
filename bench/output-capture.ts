// A replica's output through pipes (the runtime used in-process) and through capture files (the
// daemon, output-files.ts), each line stored in a real LogStore as the daemon does: how long the
// replica took to write a flood (a pipe holds it back while the reader is busy, a file never),
// how long until every line was stored, and the longest this process's event loop was held up.
// Usage: node --import tsx bench/output-capture.ts [MB]   (default 50)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogStore } from '../src/logs/store.ts';
import { ProcessRuntime } from '../src/runtime/process/process-runtime.ts';
import { longestLag } from '../test/helpers/loop-lag.ts';
import { loadavg } from './lib.ts';

const mb = Number(process.argv[2] ?? 50);
const dir = mkdtempSync(join(tmpdir(), 'herd-bench-capture-'));

/** 200-byte lines, `mb` MB of them, as fast as the replica can write; it prints how long that took. */
const script = `const fs = require('fs'); const block = ('y'.repeat(199) + '\\n').repeat(1000);
  const t = process.hrtime.bigint();
  for (let i = 0; i < ${mb * 5}; i++) fs.writeSync(1, block);
  fs.writeSync(2, 'wrote in ' + (Number(process.hrtime.bigint() - t) / 1e6).toFixed(0) + ' ms\\n');`;

async function run(mode: 'pipes' | 'files'): Promise<string> {
  const runtime = new ProcessRuntime(mode === 'files' ? { outputDir: join(dir, 'capture') } : {});
  const store = new LogStore(join(dir, `logs-${mode}`), 'b');
  let lines = 0;
  let wrote = '';
  let ms = 0;
  const maxLag = await longestLag(async () => {
    const started = performance.now();
    const h = await runtime.start({
      project: 'b',
      service: 'flood',
      index: 1,
      name: 'b-flood-1',
      command: [process.execPath, '-e', script],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      cwd: dir,
      stopSignal: 'SIGTERM',
      stopGracePeriodMs: 1000,
    });
    h.onOutput((stream, line) => {
      if (stream === 'stderr') wrote = line;
      else lines++;
      store.append('b-flood-1', { t: Date.now(), stream, line });
    });
    await h.exited;
    ms = performance.now() - started;
  });
  store.close();
  if (lines !== mb * 5000) throw new Error(`${mode}: ${lines} lines, want ${mb * 5000}`);
  return `${mode}: replica ${wrote}; all ${lines} lines stored in ${ms.toFixed(0)} ms; longest event-loop lag ${maxLag.toFixed(0)} ms`;
}

try {
  console.log(`${mb} MB of 200-byte lines, load average ${loadavg()}`);
  for (const mode of ['pipes', 'files', 'pipes', 'files'] as const) console.log(await run(mode));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
