// A stand-in daemon process for testing detach: serves the control API with the transport fake,
// or fails on purpose. Usage: node --import tsx daemon-child.ts <state-dir> ok|fail
import { reportError } from '../../src/cli/main.ts';
import { daemonPaths } from '../../src/daemon/paths.ts';
import { prepareDaemon } from '../../src/daemon/session.ts';
import { testProject, testService, TransportTestEngine } from './daemon-transport-fake.ts';

const [dir = '', mode = 'ok'] = process.argv.slice(2);
console.log('daemon starting');
if (mode === 'fail') {
  console.error('herd: port 8080 for service web is already in use');
  process.exit(3);
}
// Refusals (another daemon holds the state dir) end it as they end `herd up --foreground-daemon`.
const session = await prepareDaemon(testProject('shop', [testService('web')]), {
  paths: daemonPaths(dir),
}).catch((err: unknown) => process.exit(reportError(err)));
await session.serve(new TransportTestEngine(), {
  onDown: () => void session.close().then(() => process.exit(0)),
});
console.log('daemon ready');
