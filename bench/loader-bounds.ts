// What pathological compose input costs the loader (CPU of this process, best of 3): environment
// maps of 10 000 to 40 000 entries (linear since the duplicate-key check moved out of the yaml
// library), flow nesting 100 000 deep and an env_file that never ends (both refused).
// Usage: node --import tsx bench/loader-bounds.ts
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProject } from '../src/compose/load.ts';

const dir = mkdtempSync(join(tmpdir(), 'herd-bench-bounds-'));

async function cpuMs(file: string): Promise<{ ms: number; outcome: string }> {
  let best = Infinity;
  let outcome = '';
  for (let round = 0; round < 3; round++) {
    const c = process.cpuUsage();
    try {
      await loadProject({ files: [file], cwd: dir, env: {} });
      outcome = 'loaded';
    } catch (err) {
      outcome = `refused: ${(err as Error).message.split('\n').pop()!.slice(0, 90)}`;
    }
    const d = process.cpuUsage(c);
    best = Math.min(best, (d.user + d.system) / 1000);
  }
  return { ms: Math.round(best), outcome };
}

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const head = 'services:\n  web:\n    command: ["node", "app.js"]\n';
try {
  for (const n of [10_000, 20_000, 40_000]) {
    let s = head + '    environment:\n';
    for (let i = 0; i < n; i++) s += `      K${i}: v${i}\n`;
    const r = await cpuMs(write(`wide${n}.yaml`, s));
    console.log(`environment: ${n} entries  ${r.ms} ms CPU  ${r.outcome}`);
  }
  const n = 100_000;
  const deep = write('deep.yaml', `${head}    labels: {deep: ${'['.repeat(n)}${']'.repeat(n)}}\n`);
  const d = await cpuMs(deep);
  console.log(`flow nesting ${n} deep  ${d.ms} ms CPU  ${d.outcome}`);
  const z = await cpuMs(write('zero.yaml', `${head}    env_file: /dev/zero\n`));
  console.log(`env_file: /dev/zero  ${z.ms} ms CPU  ${z.outcome}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
