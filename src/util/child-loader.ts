// How herd starts a Node process of its own code (the proxy primary, its workers, its ingress):
// from source (development, tests) the child needs tsx to load TypeScript, found by absolute URL
// whatever its cwd; from the compiled build (dist/, what the `herd` bin runs) it needs nothing,
// and loading tsx would cost every such process a loader and an esbuild child for no use.
const fromSource = import.meta.url.endsWith('.ts');

/** Node flags for a child that runs one of herd's own modules. */
export function ownModuleArgv(): string[] {
  return fromSource ? ['--import', import.meta.resolve('tsx')] : [];
}
