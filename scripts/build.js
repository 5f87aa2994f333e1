#!/usr/bin/env node
// Compiles src/ into dist/ (`npm run build`; `npm ci` runs it through `prepare`, and bin/herd.js
// when a source is newer than the build). Every module is transpiled on its own with esbuild
// (a fraction of a second; `tsc --noEmit` is the type check), relative `.ts` specifiers become
// `.js`, and dist/.built gets the time the sources were read, so bin/herd.js can tell a build
// that is current from a stale one. The new tree is written beside dist/ and swapped in, so a
// herd starting meanwhile sees the old build, none (and runs the sources), or the new one.
import { build as esbuild } from 'esbuild';
import { mkdirSync, readdirSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src');
const dist = join(root, 'dist');

/** `./x.ts` → `./x.js` in imports, exports, import() and `new URL('./x.ts', import.meta.url)`
 * (the entry files of worker processes). */
const SPECIFIER =
  /((?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\bnew URL\(\s*)(["']))(\.{1,2}\/[^"'\n]*?)\.ts\2/g;

export function rewriteSpecifiers(code) {
  return code.replace(SPECIFIER, (_m, head, quote, path) => `${head}${path}.js${quote}`);
}

export async function build() {
  const started = new Date();
  const entryPoints = readdirSync(src, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => join(e.parentPath ?? e.path, e.name));
  const out = await esbuild({
    entryPoints,
    outdir: dist,
    outbase: src,
    bundle: false,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    logLevel: 'silent',
  });
  const tmp = `${dist}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  for (const f of out.outputFiles) {
    const file = join(tmp, relative(dist, f.path));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, rewriteSpecifiers(f.text));
  }
  const stamp = join(tmp, '.built');
  writeFileSync(stamp, `${started.toISOString()}\n`);
  utimesSync(stamp, started, started);
  swapIn(tmp);
}

function swapIn(tmp) {
  const old = `${dist}.old-${process.pid}`;
  try {
    renameSync(dist, old);
  } catch {
    // no dist yet, or another build moved it away just now
  }
  try {
    renameSync(tmp, dist);
  } catch {
    // another build put its (equally fresh) dist in place first: keep that one
    rmSync(tmp, { recursive: true, force: true });
  }
  rmSync(old, { recursive: true, force: true });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await build().catch((err) => {
    process.stderr.write(`herd build failed: ${err.message}\n`);
    process.exit(1);
  });
}
