// Entry point of a proxy process group's primary (started by process-plane.ts, configured by
// HERD_PROXY_CONFIG): opens the control socket, starts the workers, says `ready` on stdout.
import { chmodSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { setAutogroupNice } from '../../util/autogroup.ts';
import { Primary } from './primary.ts';
import { Reviver } from './revive.ts';
import type { PrimaryConfig } from './spawn-primary.ts';

const cfg = JSON.parse(process.env.HERD_PROXY_CONFIG ?? '{}') as PrimaryConfig;
delete process.env.HERD_PROXY_CONFIG;
process.title = `herd-proxy ${cfg.name}`;
if (cfg.nice !== undefined) {
  try {
    // Before the workers are forked, so they inherit it.
    os.setPriority(cfg.nice);
  } catch {
    // Not permitted (no CAP_SYS_NICE): the daemon lowers the replicas instead.
  }
  // This process leads a session: under autogroup scheduling the session's nice is what weighs
  // against the replicas (each in a session of its own), not the one above.
  setAutogroupNice('self', cfg.nice);
}

const reviver = new Reviver(cfg.revive, cfg.reviveTiming);
const primary = new Primary({
  workers: cfg.workers,
  settings: cfg.settings,
  onShutdown: () => void exit(0),
  onDaemon: (id, revive) => reviver.registered(id, revive),
});
let orphan: NodeJS.Timeout | undefined;

async function exit(code: number): Promise<void> {
  reviver.stop();
  await primary.shutdown().catch(() => undefined);
  control.close();
  rmSync(cfg.socket, { force: true });
  process.exit(code);
}

const control = net.createServer((sock) => {
  clearTimeout(orphan);
  primary.attach(sock, () => {
    // The daemon is gone: keep serving the last table while one comes back and resyncs; with a
    // revive command this process starts it again, and never ends for lack of one.
    if (cfg.orphanMs > 0 && !reviver.enabled) orphan = setTimeout(() => void exit(0), cfg.orphanMs);
    reviver.lost();
  });
});

async function main(): Promise<void> {
  rmSync(cfg.socket, { force: true }); // the daemon stopped whatever answered on it before
  await new Promise<void>((resolve, reject) => {
    control.once('error', reject);
    // 0600 from the start: nobody else may connect between listen() and chmod().
    const mask = process.umask(0o177);
    control.listen(cfg.socket, () => {
      process.umask(mask);
      resolve();
    });
  });
  chmodSync(cfg.socket, 0o600);
  await primary.start();
  process.stdout.write('ready\n');
}

process.on('SIGTERM', () => void exit(0));
process.on('SIGINT', () => void exit(0));
main().catch((err: unknown) => {
  process.stderr.write(`herd: proxy: ${(err as Error).message}\n`);
  void exit(1);
});
