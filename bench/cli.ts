// Start-up cost of the herd command: median wall time of `herd --version`, `herd ps` (against a
// running 2-replica stack) and `herd ls`, each next to `node -e 0` measured in the same rounds
// (interleaved, so load drifting on a shared machine hits all alike), and the same verbs run from
// the TypeScript sources through tsx (HERD_FROM_SOURCE=1) for comparison.
// Usage: node --import tsx bench/cli.ts [rounds=15]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './lib.ts';

const rounds = Number(process.argv[2] ?? 15);
const HERD = join(ROOT, 'bin/herd.js');
const dir = mkdtempSync(join(tmpdir(), 'herd-bench-cli-'));
const env = {
  ...process.env,
  HERD_STATE_DIR: join(dir, '.state'),
  XDG_STATE_HOME: join(dir, 'xdg'),
};
writeFileSync(
  join(dir, 'compose.yaml'),
  'name: benchcli\nservices:\n  web:\n    command: ["node", "-e", "setInterval(() => {}, 1000)"]\n    deploy:\n      replicas: 2\n',
);

function timed(argv: string[], extra: NodeJS.ProcessEnv = {}): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), {
    cwd: dir,
    env: { ...env, ...extra },
    stdio: 'ignore',
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}`);
  return ms;
}

const cases: [string, string[], NodeJS.ProcessEnv?][] = [
  ['node -e 0', [process.execPath, '-e', '0']],
  ['herd --version', [process.execPath, HERD, '--version']],
  ['herd ps', [process.execPath, HERD, 'ps']],
  ['herd ls', [process.execPath, HERD, 'ls']],
  ['herd --version (tsx)', [process.execPath, HERD, '--version'], { HERD_FROM_SOURCE: '1' }],
  ['herd ps (tsx)', [process.execPath, HERD, 'ps'], { HERD_FROM_SOURCE: '1' }],
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
try {
  timed([process.execPath, HERD, 'up', '-d', '--wait', '--wait-timeout', '30']);
  for (const [, argv, extra] of cases) timed(argv, extra); // warm the file cache
  const samples = new Map(cases.map(([name]) => [name, [] as number[]]));
  for (let i = 0; i < rounds; i++)
    for (const [name, argv, extra] of cases) samples.get(name)!.push(timed(argv, extra));
  const base = median(samples.get('node -e 0')!);
  console.log(`${rounds} interleaved rounds, median wall time`);
  for (const [name] of cases) {
    const m = median(samples.get(name)!);
    console.log(
      `${name.padEnd(22)} ${m.toFixed(0).padStart(6)} ms  ${(m / base).toFixed(2)}x node -e 0`,
    );
  }
} finally {
  spawnSync(process.execPath, [HERD, 'down'], { cwd: dir, env, stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
}
