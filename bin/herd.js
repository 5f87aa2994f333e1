#!/usr/bin/env node
// herd runs from its TypeScript sources: tsx compiles them on load, so no build step is needed.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
await main(process.argv);
