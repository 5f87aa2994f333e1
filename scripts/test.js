#!/usr/bin/env node
// Runs the test suites with Node's own test runner; TypeScript is loaded through tsx.
// Usage: node scripts/test.js [unit|integration|e2e ...]
import { readdirSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

if (process.env.HERD_SKIP_DEPS !== '1') {
  const deps = spawnSync('bash', ['scripts/ensure-test-deps.sh'], { stdio: 'inherit' });
  if (deps.status !== 0) process.exit(deps.status ?? 1);
}
const suites = process.argv.slice(2).length
  ? process.argv.slice(2)
  : ['unit', 'integration', 'e2e'];
const files = [];
for (const suite of suites) {
  const dir = join('test', suite);
  if (!existsSync(dir)) continue;
  for (const f of readdirSync(dir).sort()) if (f.endsWith('.test.ts')) files.push(join(dir, f));
}
if (files.length === 0) {
  console.error(`no test files found for: ${suites.join(', ')}`);
  process.exit(1);
}
const concurrency = process.env.HERD_TEST_CONCURRENCY ?? '2';
const r = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${concurrency}`,
    '--test-reporter=spec',
    ...files,
  ],
  { stdio: 'inherit' },
);
process.exit(r.status ?? 1);
