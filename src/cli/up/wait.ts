// Polls the daemon's `ps` until the stack is started or ready, a replica fails, or time runs out.
import type { PsResponse } from '../../daemon/api-types.ts';
import type { DaemonClient } from '../../daemon/client.ts';
import { HerdError } from '../../util/errors.ts';
import { judge, type WaitMode } from './readiness.ts';

/** Compose waits without limit; herd gives up after 5 minutes unless told otherwise. */
export const DEFAULT_WAIT_MS = 300_000;

/** Ready must last this long: a replica that crashes right after starting is not "ready". */
const SETTLE_MS = 1000;

export async function waitForStack(
  client: DaemonClient,
  services: string[],
  mode: WaitMode,
  timeoutMs = DEFAULT_WAIT_MS,
): Promise<PsResponse> {
  const deadline = Date.now() + timeoutMs;
  let doneSince: number | undefined;
  for (;;) {
    const ps = await client.get<PsResponse>('/v1/ps');
    const r = judge(ps, services, mode);
    if (r.failed.length > 0)
      throw new HerdError(
        `not every service came up: ${r.failed.join('; ')}; see \`herd logs\` and \`herd ps -a\``,
        'FAILED',
      );
    if (!r.done) doneSince = undefined;
    else if (mode === 'started') return ps;
    else if (doneSince === undefined) doneSince = Date.now();
    else if (Date.now() - doneSince >= SETTLE_MS) return ps;
    if (Date.now() > deadline)
      throw new HerdError(
        `timed out after ${Math.round(timeoutMs / 1000)} s waiting for the stack to be ` +
          `${mode === 'ready' ? 'ready' : 'started'}: ${r.pending.join('; ')}; ` +
          'see `herd ps` and `herd logs` (raise the limit with --wait-timeout SECONDS)',
        'FAILED',
      );
    await new Promise((res) => setTimeout(res, 150));
  }
}
