// The page's script and styles: the bundle `npm run build` made (dist/dashboard-ui/, from ui/; see
// scripts/build.js), or — from a source checkout without one, or with ui/ edited since — the same
// bundle made in memory once.
import { readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Assets {
  'app.js': Buffer;
  'app.css': Buffer;
}

const ROOT = new URL('../../', import.meta.url);
const BUNDLE_DIR = fileURLToPath(new URL('dist/dashboard-ui/', ROOT));
const UI_DIR = fileURLToPath(new URL('ui/dashboard/', ROOT));

export async function loadAssets(): Promise<Assets> {
  if (!builtIsCurrent()) return bundle();
  const [js, css] = await Promise.all([
    readFile(join(BUNDLE_DIR, 'app.js')),
    readFile(join(BUNDLE_DIR, 'app.css')),
  ]);
  return { 'app.js': js, 'app.css': css };
}

/** A bundle exists and no file of ui/dashboard changed after it was made. */
function builtIsCurrent(): boolean {
  let builtAt: number;
  try {
    builtAt = Math.min(
      statSync(join(BUNDLE_DIR, 'app.js')).mtimeMs,
      statSync(join(BUNDLE_DIR, 'app.css')).mtimeMs,
    );
  } catch {
    return false;
  }
  try {
    return readdirSync(UI_DIR).every((f) => statSync(join(UI_DIR, f)).mtimeMs <= builtAt);
  } catch {
    return true; // an installed package without the page's sources: the bundle is all there is
  }
}

/** Bundles ui/dashboard in memory with esbuild (the options scripts/build.js uses). */
async function bundle(): Promise<Assets> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: { app: join(UI_DIR, 'main.ts') },
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    write: false,
    outdir: BUNDLE_DIR,
    logLevel: 'silent',
  });
  const pick = (ext: string) => {
    const file = result.outputFiles.find((f) => f.path.endsWith(ext));
    if (!file) throw new Error(`the dashboard bundle has no ${ext} file`);
    return Buffer.from(file.contents);
  };
  return { 'app.js': pick('.js'), 'app.css': pick('.css') };
}
