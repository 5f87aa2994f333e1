// A stand-in daemon for the revival tests: connects to a proxy primary's control socket, says
// who it is (as a daemon's ProcessPlane does), appends `<pid> <ms>` to a marker file and stays
// until killed. Usage: node --import tsx fake-daemon.ts <proxy.sock> <marker>
import { appendFileSync } from 'node:fs';
import net from 'node:net';
import { processStartTime } from '../../src/util/process-identity.ts';

const [sock = '', marker = ''] = process.argv.slice(2);
const s = net.connect(sock);
s.setEncoding('utf8');
let said = false;
s.on('data', (d: string) => {
  if (said || !d.includes('"hello"')) return;
  said = true;
  const startTime = processStartTime(process.pid) ?? 0;
  s.write(JSON.stringify({ op: 'daemon', pid: process.pid, startTime }) + '\n');
  appendFileSync(marker, `${process.pid} ${Date.now()}\n`);
});
s.on('error', (err) => {
  process.stderr.write(`fake daemon: ${err.message}\n`);
  process.exit(1);
});
