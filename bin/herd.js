#!/usr/bin/env node
// herd's command. It runs the JavaScript compiled into dist/ (`npm ci` builds it through
// `prepare`), which starts several times faster than compiling the TypeScript at every start.
// When a file under src/ is newer than the build (development: edit, then run), it rebuilds
// dist/ first (scripts/build.js, a fraction of a second, once per edit); if that fails, or with
// HERD_FROM_SOURCE=1, it runs the sources through tsx as they are.
import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const src = fileURLToPath(new URL('../src/', import.meta.url));

function builtAt() {
  try {
    return statSync(new URL('../dist/.built', import.meta.url)).mtimeMs;
  } catch {
    return undefined;
  }
}

/** Whether some file under src/ changed after `at` (a few ms for the ~250 sources). */
function changedSince(at) {
  for (const e of readdirSync(src, { recursive: true, withFileTypes: true })) {
    if (e.isFile() && statSync(`${e.parentPath ?? e.path}/${e.name}`).mtimeMs > at) return true;
  }
  return false;
}

async function current() {
  const at = builtAt();
  if (at !== undefined && !changedSince(at)) return true;
  try {
    const { build } = await import('../scripts/build.js');
    await build();
    return true;
  } catch {
    return false; // the sources do not compile as they are: tsx reports why
  }
}

let main;
if (process.env.HERD_FROM_SOURCE !== '1' && (await current())) {
  ({ main } = await import('../dist/cli/main.js'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
await main(process.argv);
