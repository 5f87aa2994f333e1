// The smallest real stack: one process service that ticks, restarted unless stopped, in a fresh
// folder named after the project with a state dir of its own.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sandbox, type Sandbox } from './e2e.ts';
import { tempDir } from './tmp.ts';

const COMPOSE = `
services:
  tick:
    command: ["node", "-e", "setInterval(() => console.log('tick'), 500)"]
    restart: unless-stopped
`;

export function tinyBox(project: string): Sandbox {
  const root = tempDir(`e2e-${project}`);
  const dir = join(root, project);
  mkdirSync(dir);
  writeFileSync(join(dir, 'compose.yaml'), COMPOSE);
  return sandbox(root, dir);
}
