// Cleanup that belongs to the test file, not to the test or hook that happens to ask for it.
import { AsyncResource } from 'node:async_hooks';
import { after } from 'node:test';

// node:test attaches after() to the test or hook it is called from: called in a before() hook, it
// would run as soon as that hook ends. Bound here, at import, the call runs in the file's
// top-level context, so the hook belongs to the file and runs after all its tests.
const atFileLevel = AsyncResource.bind((register: () => void) => register());

/** Runs `fn` once the current test file's tests are done. Call it only from test files (and the
 * helpers they use): node:test in a process that is no test file prints a report of its own. */
export function afterFile(fn: () => void | Promise<void>): void {
  atFileLevel(() => after(fn));
}
