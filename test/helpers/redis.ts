// A throwaway Redis for tests: Debian's redis-server on a free loopback port, nothing saved to
// disk, stopped (and waited for) by stop(). A missing redis-server fails the test that needs it.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { allocatePort } from '../../src/runtime/ports.ts';
import { waitUntil } from './wait.ts';

export interface TestRedis {
  port: number;
  /** Runs redis-cli against it (with the password, if any) and returns its output. */
  cli(...args: string[]): string;
  stop(): Promise<void>;
}

export async function startRedis(opts: { password?: string } = {}): Promise<TestRedis> {
  const port = await allocatePort();
  const args = ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'];
  if (opts.password !== undefined) args.push('--requirepass', opts.password);
  const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const spawned = await Promise.race([
    once(child, 'spawn').then(() => undefined),
    once(child, 'error').then(([e]) => e as Error),
  ]);
  if (spawned)
    throw new Error(`redis-server (Debian: redis-server) must be installed: ${spawned.message}`);
  const auth = opts.password === undefined ? [] : ['--no-auth-warning', '-a', opts.password];
  const cli = (...a: string[]) => {
    const r = spawnSync('redis-cli', ['-p', String(port), ...auth, ...a], { encoding: 'utf8' });
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error(`redis-cli ${a.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
  try {
    await waitUntil('redis-server answering', () => {
      try {
        return cli('PING') === 'PONG';
      } catch {
        return false;
      }
    });
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    port,
    cli,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
