// The one way tests make temp dirs: `tempDir('x')` is `$TMPDIR/herd-x-XXXXXX`, removed when the
// test file ends, whatever its tests did, so a run leaves nothing in TMPDIR.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterFile } from './file-end.ts';

const made = new Set<string>();

export function tempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `herd-${name}-`));
  // Registered on first use, not at import: helpers that child processes run (daemon-child.ts)
  // import this module too.
  if (made.size === 0) afterFile(removeAll);
  made.add(dir);
  return dir;
}

function removeAll(): void {
  // force: a test may have removed its dir already.
  for (const dir of made) rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  made.clear();
}
