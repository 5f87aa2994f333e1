// commander for main.ts, which loads it only once it knows it needs it (`herd --version` does not).
export { Command } from 'commander';
