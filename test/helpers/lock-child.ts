// Takes the daemon lock of a state dir in a process of its own and says `locked` or `<code>
// <message>`. Usage: node --import tsx lock-child.ts <state-dir> hold|once — `hold` stays until
// killed; `once` does nothing more (the lock alone must not keep a process running).
import { acquireDaemonLock } from '../../src/daemon/daemon-lock.ts';
import { HerdError } from '../../src/util/errors.ts';

const [dir = '', mode = 'hold'] = process.argv.slice(2);
try {
  await acquireDaemonLock(dir, 'shop');
  process.stdout.write('locked\n');
  if (mode === 'hold') setInterval(() => {}, 60_000);
} catch (err) {
  const code = err instanceof HerdError ? err.code : 'ERROR';
  process.stdout.write(`${code} ${(err as Error).message}\n`);
}
