// The page's two channels to its server: the live WebSocket and the actions (POSTs to the same
// control API the CLI uses, from this origin, with the cookie the token was traded for).
import type { ServerMessage } from './types.ts';

export type Action = 'scale' | 'restart' | 'stop' | 'start';

export async function act(action: Action, body: unknown): Promise<void> {
  const res = await fetch(`/api/${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) {
    const text = await res.text();
    let message = text;
    try {
      message = (JSON.parse(text) as { error?: string }).error ?? text;
    } catch {
      // plain text
    }
    throw new Error(message.trim() || `${action} failed (${res.status})`);
  }
}

/** Fetches the current state once (so the page shows it at once), then follows the live feed,
 * reconnecting with a growing pause when the connection drops (a daemon restart, say). */
export function follow(
  onMessage: (m: ServerMessage) => void,
  onStatus: (live: boolean) => void,
): void {
  void fetch('/api/state')
    .then((r) => (r.ok ? r.json() : undefined))
    .then((s) => s && onMessage({ type: 'snapshot', ...s }))
    .catch(() => undefined);
  let pause = 500;
  const connect = () => {
    const ws = new WebSocket(
      `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`,
    );
    ws.onopen = () => {
      pause = 500;
      onStatus(true);
    };
    ws.onmessage = (e) => onMessage(JSON.parse(String(e.data)) as ServerMessage);
    ws.onclose = () => {
      onStatus(false);
      setTimeout(connect, pause);
      pause = Math.min(pause * 2, 10_000);
    };
  };
  connect();
}
