// A herd that dies without cleaning up, for adoption tests: runs the stack of a compose folder
// and prints `ready` once it is up; the test then SIGKILLs it, leaving its containers running.
// Usage: node --import tsx docker-stack-child.ts <compose-dir> <docker-socket>
import { loadComposeDir, startStack } from './docker-stack.ts';

const [dir = '', socket = ''] = process.argv.slice(2);
const stack = await startStack(await loadComposeDir(dir), socket);
stack.engine.on('event', (e) => {
  if (e.type === 'notice') console.log(`notice: ${e.message}`);
});
console.log('ready');
// Stays up until killed (the test bounds that).
setInterval(() => {}, 60_000);
