// Starting a proxy process group's primary: its own session and process group (so a Ctrl-C or a
// stalled daemon never reaches it), configured through HERD_PROXY_CONFIG, ready once it says so.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ownModuleArgv } from '../../util/child-loader.ts';
import type { PlaneSettings } from '../plane.ts';
import type { ReviveCommand } from './protocol.ts';
import type { ReviveTiming } from './revive.ts';

const PRIMARY_MAIN = fileURLToPath(new URL('./primary-main.ts', import.meta.url));
const START_TIMEOUT_MS = 20_000;

/** What the primary reads from HERD_PROXY_CONFIG. */
export interface PrimaryConfig {
  name: string;
  socket: string;
  workers: number;
  settings: PlaneSettings;
  /** How long it serves on without a daemon before it ends (0: until one comes back). Not used
   * with `revive`: then it never ends for lack of a daemon. */
  orphanMs: number;
  /** Nice value to take before starting the workers, if permitted. */
  nice?: number;
  /** How to start the daemon again when it is gone (a daemon's `daemon` message may name it). */
  revive?: ReviveCommand;
  /** Tests: shorter revival waits. */
  reviveTiming?: Partial<ReviveTiming>;
}

/** Spawns a primary and resolves with its pid once it serves its control socket. */
export async function spawnPrimary(
  cfg: PrimaryConfig,
  env: Record<string, string | undefined>,
): Promise<number> {
  const child = spawn(process.execPath, [...ownModuleArgv(), PRIMARY_MAIN], {
    detached: true,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...env, HERD_PROXY_CONFIG: JSON.stringify(cfg) },
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the proxy process did not start in time'));
    }, START_TIMEOUT_MS);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      if (!d.includes('ready')) return;
      clearTimeout(timer);
      resolve();
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the proxy process exited while starting (${code ?? signal})`));
    });
  });
  child.stdout!.destroy();
  child.removeAllListeners('exit');
  child.unref();
  return child.pid!;
}
