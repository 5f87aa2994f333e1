// The page's script and styles: the bundle `npm run build` made (dist/dashboard-ui/, from ui/),
// or, when running from a source checkout without one, the same bundle made in memory once.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export interface Assets {
  'app.js': Buffer;
  'app.css': Buffer;
}

const ROOT = new URL('../../', import.meta.url);
export const BUNDLE_DIR = fileURLToPath(new URL('dist/dashboard-ui/', ROOT));
export const UI_ENTRY = fileURLToPath(new URL('ui/dashboard/main.ts', ROOT));

export async function loadAssets(): Promise<Assets> {
  try {
    const [js, css] = await Promise.all([
      readFile(`${BUNDLE_DIR}app.js`),
      readFile(`${BUNDLE_DIR}app.css`),
    ]);
    return { 'app.js': js, 'app.css': css };
  } catch {
    return bundle();
  }
}

/** Bundles ui/dashboard with esbuild: into `outdir` when given (the build), else in memory. */
export async function bundle(outdir?: string): Promise<Assets> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: { app: UI_ENTRY },
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    write: outdir !== undefined,
    outdir: outdir ?? BUNDLE_DIR,
    logLevel: 'silent',
  });
  if (outdir !== undefined) return loadAssets();
  const pick = (ext: string) => {
    const file = result.outputFiles?.find((f) => f.path.endsWith(ext));
    if (!file) throw new Error(`the dashboard bundle has no ${ext} file`);
    return Buffer.from(file.contents);
  };
  return { 'app.js': pick('.js'), 'app.css': pick('.css') };
}
