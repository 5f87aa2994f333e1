#!/usr/bin/env node
// Compiles src/ into dist/ (`npm run build`; `npm ci` runs it through `prepare`, and bin/herd.js
// when a source is newer than the build). Every module is transpiled on its own with esbuild
// (a fraction of a second; `tsc --noEmit` is the type check), relative `.ts` specifiers become
// `.js`, and dist/.built gets the time the sources were read, so bin/herd.js can tell a build
// that is current from a stale one. The new tree is written beside dist/ and swapped in, so a
// herd starting meanwhile sees the old build, none (and runs the sources), or the new one.
// The packages every verb loads (VENDORED) are bundled into one module each under dist/vendor/:
// node loads yaml's ~80 CommonJS files several times slower than one module.
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

/** Modules replaced in dist/ by a bundle of themselves and every module of their own folder they
 * import (imports leaving the folder stay imports): the compose loader is some 50 small modules,
 * which every verb that finds its project loads. The folder's modules are pure functions and
 * constants, so another copy of one, loaded on its own by another module, does no harm. */
const FOLDER_BUNDLES = ['compose/load.ts', 'compose/inputs.ts', 'cli/format/ps.ts'];

async function folderBundle(entry) {
  const folder = dirname(join(src, entry));
  const out = await esbuild({
    entryPoints: [join(src, entry)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    logLevel: 'silent',
    plugins: [
      {
        name: 'own-folder-only',
        setup(b) {
          b.onResolve({ filter: /.*/ }, (args) => {
            if (args.kind === 'entry-point') return undefined;
            if (!args.path.startsWith('.')) return { path: args.path, external: true };
            if (dirname(join(args.resolveDir, args.path)) === folder) return undefined;
            return { path: args.path, external: true };
          });
        },
      },
    ],
  });
  return out.outputFiles[0].text;
}

/** Packages whose named imports are served from one bundled module each. */
const VENDORED = ['yaml', 'commander'];

/** The names dist/ imports from `pkg` (`import { a, b as c } from "pkg"`), or undefined when
 * some module imports it another way (default, namespace, import()): then it is left as is. */
function namedImports(files, pkg) {
  const names = new Set();
  const q = pkg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const named = new RegExp(`(?:import|export)\\s*\\{([^}]*)\\}\\s*from\\s*"${q}"`, 'g');
  const any = new RegExp(`(from\\s*|import\\s*\\(\\s*|import\\s+)"${q}"`, 'g');
  for (const f of files) {
    const n = [...f.text.matchAll(any)].length;
    const m = [...f.text.matchAll(named)];
    if (m.length !== n) return undefined;
    for (const x of m)
      for (const part of x[1].split(',')) {
        const name = part.trim().split(/\s+as\s+/)[0];
        if (name) names.add(name);
      }
  }
  return [...names];
}

/** dist/vendor/<pkg>.js for each vendored package: its named exports, bundled. */
async function vendor(files, tmp) {
  const done = [];
  for (const pkg of VENDORED) {
    const names = namedImports(files, pkg);
    if (!names || names.length === 0) continue;
    await esbuild({
      stdin: { contents: `export { ${names.join(', ')} } from '${pkg}';`, resolveDir: root },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile: join(tmp, 'vendor', `${pkg}.js`),
      // The CommonJS inside calls require() for node's own modules.
      banner: {
        js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      },
      logLevel: 'silent',
    });
    done.push(pkg);
  }
  return done;
}

/** `from "yaml"` → `from "../vendor/yaml.js"` in a module at `file` (relative to dist/). */
function useVendored(code, file, pkgs) {
  let out = code;
  for (const pkg of pkgs) {
    let rel = relative(dirname(join(dist, file)), join(dist, 'vendor', `${pkg}.js`));
    if (!rel.startsWith('.')) rel = `./${rel}`;
    out = out.split(`from "${pkg}"`).join(`from "${rel}"`);
  }
  return out;
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
  const bundles = new Map();
  for (const entry of FOLDER_BUNDLES)
    bundles.set(join(dist, entry.replace(/\.ts$/, '.js')), await folderBundle(entry));
  const files = out.outputFiles.map((f) => ({ path: f.path, text: bundles.get(f.path) ?? f.text }));
  const vendored = await vendor(files, tmp);
  for (const f of files) {
    const name = relative(dist, f.path);
    const file = join(tmp, name);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, useVendored(rewriteSpecifiers(f.text), name, vendored));
  }
  await bundleDashboard(join(tmp, 'dashboard-ui'));
  const stamp = join(tmp, '.built');
  writeFileSync(stamp, `${started.toISOString()}\n`);
  utimesSync(stamp, started, started);
  swapIn(tmp);
}

/** The dashboard's page script and styles (ui/dashboard), as src/dashboard/assets.ts makes them in
 * memory when there is no build. */
async function bundleDashboard(outdir) {
  await esbuild({
    entryPoints: { app: join(root, 'ui', 'dashboard', 'main.ts') },
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    outdir,
    logLevel: 'silent',
  });
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
