// Run by scripts/test.js once a run is over: lets go of the run's hold on the test Docker engine
// (the last user stops it and removes its folder) and fails if containers were left behind.
// Usage: HERD_TEST_RUNNER_PID=<pid> node --import tsx dockerd-release.ts
import { releaseDockerd } from './dockerd.ts';

const left = await releaseDockerd();
if (left.length > 0) {
  console.error(`containers left behind in the test Docker engine: ${left.join(', ')}`);
  process.exit(1);
}
