// `herd dashboard`: where the running stack's dashboard is (with its access token), and with
// --open, that page in a browser.
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import type { DashboardResponse } from '../../daemon/api-types.ts';
import { locateDaemon } from '../../daemon/locate.ts';

export function registerDashboard(program: Command): void {
  program
    .command('dashboard')
    .description("print the URL of the stack's dashboard (x-herd.dashboard), with its access token")
    .option('--url', 'print only the URL')
    .option('--open', 'open it in a browser (xdg-open, open or $BROWSER)')
    .addHelpText(
      'after',
      `
The URL carries the token that lets a browser in (kept in the state dir, readable by you only);
the page trades it for a cookie and drops it from the address. Anyone with the URL can act on the
stack, so share it as you would a password.

Examples:
  $ herd dashboard
  $ herd dashboard --url
  $ herd dashboard --open`,
    )
    .action(async (opts: { url?: boolean; open?: boolean }, cmd: Command) => {
      const { client } = await locateDaemon(cmd);
      const { url } = await client.get<DashboardResponse>('/v1/dashboard');
      process.stdout.write(opts.url ? `${url}\n` : `Dashboard: ${url}\n`);
      if (opts.open) openBrowser(url);
    });
}

/** Starts a browser where one exists; says so when none does (the URL is printed anyway). */
function openBrowser(url: string): void {
  const browser = process.env.BROWSER ?? (process.platform === 'darwin' ? 'open' : 'xdg-open');
  const child = spawn(browser, [url], { stdio: 'ignore', detached: true });
  child.on('error', () =>
    process.stderr.write(`herd: no browser to open (${browser}); open the URL above by hand\n`),
  );
  child.unref();
}
