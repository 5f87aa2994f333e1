// The small stack the verb end-to-end tests drive: web ×2 (HTTP, logs signals) behind a published
// port, and a worker that ticks.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sandbox, type Sandbox } from './e2e.ts';
import { tempDir } from './tmp.ts';

const app = `
const http = require('node:http');
const who = 'web-' + process.env.HERD_REPLICA;
const s = http.createServer((q, r) => r.end(who + ' pid ' + process.pid));
s.listen(Number(process.env.PORT), '127.0.0.1', () => console.log(who + ' listening'));
process.on('SIGTERM', () => { console.log(who + ' bye'); s.close(() => process.exit(0)); });
process.on('SIGHUP', () => console.log(who + ' got SIGHUP'));
`;

const composeFor = (project: string): string => `
name: ${project}
services:
  web:
    command: ["node", "app.js"]
    scale: 2
    restart: unless-stopped
    stop_grace_period: 3s
    ports: ["\${WEB_PORT}:5000"]
    # Ready means answering: a replacement gets traffic only once it listens.
    healthcheck:
      test: ["CMD", "node", "-e", "require('net').connect(+process.env.PORT, '127.0.0.1').on('connect', () => process.exit(0)).on('error', () => process.exit(1))"]
      interval: 5s
      start_period: 10s
      start_interval: 200ms
  worker:
    command: ["node", "-e", "let n = 0; setInterval(() => console.log('tick ' + ++n), 200)"]
    restart: unless-stopped
`;

/** A fresh folder named after `project` with the stack in it, published on `port`. */
export function makeVerbsBox(project: string, port: number): Sandbox {
  const root = tempDir(`e2e-${project}`);
  const dir = join(root, project);
  mkdirSync(dir);
  writeFileSync(join(dir, 'app.js'), app);
  writeFileSync(join(dir, 'compose.yaml'), composeFor(project));
  return sandbox(root, dir, { WEB_PORT: String(port) });
}
