// For a test that starts a process with a minimal environment: what it must still inherit from the
// test run.
const INHERITED = [
  // The run's own temp dir: where tsx keeps its compile cache and where anything left shows.
  'TMPDIR',
  // scripts/test.js's mark on the run's processes, by which it finds any left running.
  'HERD_TEST_RUN',
];

export function runEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of INHERITED) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}
