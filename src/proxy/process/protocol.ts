// Messages between the daemon and a proxy primary (process/channel.ts frames them). The daemon
// owns the routing table and sends it as a whole (snapshot: after it connects, so a daemon that
// comes back resyncs) and as deltas; the primary keeps the last table whatever happens to the
// daemon, and reports counters and its workers.
import type { IngressSettings, TlsPair } from '../../compose/ingress-settings.ts';
import type { ListenAddress } from '../../compose/listen-address.ts';
import type { Route } from '../../compose/routes.ts';
import type { ReplicaStats } from '../counters.ts';
import type { EndpointSpec, IngressConfig, ListenerSpec, TableSnapshot } from '../plane.ts';
import {
  bool,
  dict,
  either,
  int,
  list,
  literal,
  num,
  object,
  optional,
  str,
  type Shape,
} from '../../util/shape.ts';

/** daemon → primary: requests (with `id`, answered by a Reply) */
export type Request =
  | { id: number; op: 'open'; spec: ListenerSpec }
  | { id: number; op: 'stop' | 'resume' | 'close'; listener: string }
  | { id: number; op: 'drain'; replica: string; listeners: string[] }
  | { id: number; op: 'counters' }
  /** `keep`: endpoints of these replicas that the table lacks stay (a daemon that adopted a running
   * primary settles once it re-added what still runs); '*': nothing is closed or removed, the
   * table only adds (a daemon that adopted and has not settled yet). */
  | { id: number; op: 'snapshot'; table: TableSnapshot; keep?: string[] | '*' }
  /** The ingress to serve (null: none), pools named by the primary's listener ids; kept as part
   * of the last table, so the same config again (a daemon that came back) changes nothing. */
  | { id: number; op: 'ingress'; config: IngressConfig | null }
  | { id: number; op: 'shutdown' };

/** How to start the daemon again (ProxyProcessOptions.revive). */
export interface ReviveCommand {
  /** argv[0] is the executable. */
  argv: string[];
  cwd: string;
  /** The daemon's output is appended to it. */
  log: string;
}

/** daemon → primary: deltas that need no answer */
export type Delta =
  | { op: 'add'; endpoint: EndpointSpec }
  | { op: 'remove'; replica: string; listeners: string[] }
  /** Who the daemon on this connection is (sent first): the primary watches that exact process
   * (PID and start time) and, with `revive`, starts the daemon again when it is gone. */
  | { op: 'daemon'; pid: number; startTime: number; revive?: ReviveCommand };

export type ToPrimary = Request | Delta;

export interface Reply {
  id: number;
  ok: boolean;
  /** open: the bound port */
  port?: number;
  /** counters */
  stats?: ReplicaStats[];
  /** snapshot: listeners it could not bind, by id */
  failed?: Record<string, string>;
  error?: string;
  /** the system error code (EADDRINUSE, …) of a failed open */
  code?: string;
}

/** primary → daemon, unasked */
export type Notice =
  /** `listeners`: what the primary holds (a daemon that adopts it matches its own to them). */
  | { ev: 'hello'; pid: number; workers: number[]; listeners: HeldListener[] }
  | { ev: 'workers'; workers: number[] }
  | { ev: 'counters'; stats: ReplicaStats[] }
  | { ev: 'warn'; message: string }
  /** A request is held for `service` and it has no replica: passed on at once (scale to zero). */
  | { ev: 'hold'; service: string };

export type FromPrimary = Reply | Notice;

/** A listener a primary holds, as its hello reports it. */
export interface HeldListener {
  spec: ListenerSpec;
  port: number;
}

/** The control socket's name in the directory given to the proxy. */
export const CONTROL_SOCKET = 'proxy.sock';

// ---- what the daemon accepts from a primary ---------------------------------------------------
// The primary is herd's own process behind a 0600 socket, but a reply is still checked before it
// is used, as the CLI checks the daemon's: a message that does not fit is refused with what is
// wrong with it instead of failing later (`r.port` undefined, `stats` not a list).

const replicaStats = object<ReplicaStats>({
  replica: str,
  service: str,
  requests: num,
  errors: num,
  inFlight: num,
  connections: num,
  latencyBuckets: list(num),
  latencySumMs: num,
  codes: optional(dict(num)),
  tcpConnections: optional(num),
});

/** The fields of a held listener the daemon reads to match its own to it (plane-support.ts). */
const heldSpec = object<Pick<ListenerSpec, 'id' | 'service' | 'host' | 'port' | 'mode'>>({
  id: str,
  service: str,
  host: str,
  port: int,
  mode: str as Shape<ListenerSpec['mode']>,
}) as Shape<ListenerSpec>;

const replyShape = object<Reply>({
  id: int,
  ok: bool,
  port: optional(int),
  stats: optional(list(replicaStats)),
  failed: optional(dict(str)),
  error: optional(str),
  code: optional(str),
});

const noticeShapes: { [E in Notice['ev']]: Shape<Extract<Notice, { ev: E }>> } = {
  hello: object({
    ev: literal('hello'),
    pid: int,
    workers: list(int),
    listeners: list(object<HeldListener>({ spec: heldSpec, port: int })),
  }),
  workers: object({ ev: literal('workers'), workers: list(int) }),
  counters: object({ ev: literal('counters'), stats: list(replicaStats) }),
  warn: object({ ev: literal('warn'), message: str }),
  hold: object({ ev: literal('hold'), service: str }),
};

// ---- what a primary accepts of the ingress config ---------------------------------------------
// Checked before the ingress process gets it: a config that does not fit is refused with what is
// wrong with it, not a crash of the process serving the ingress.

const listenAddress = object<ListenAddress>({ host: str, port: int });
const tlsPair = object<TlsPair>({ certFile: str, cert: str, key: str, names: list(str) });
const ingressSettings = object<IngressSettings>({
  http: optional(listenAddress),
  https: optional(listenAddress),
  tls: optional(
    either<IngressSettings['tls']>(literal('internal'), list(tlsPair) as Shape<TlsPair[]>),
  ),
  redirectHttps: bool,
  hstsSeconds: optional(num),
});
const route = object<Route>({
  service: str,
  host: optional(str),
  path: str,
  stripPrefix: bool,
  port: int,
  source: str,
});
const ingressConfig = object<IngressConfig>({
  settings: ingressSettings,
  routes: list(route),
  pools: dict(str),
});

/** Undefined when `config` is an ingress config (or null) as this primary understands them. */
export function ingressConfigProblem(config: unknown): string | undefined {
  return config === null ? undefined : ingressConfig(config, 'the ingress config');
}

/** What an answered request must carry besides `ok` (when ok). */
const ANSWER_CARRIES: Partial<Record<Request['op'], 'port' | 'stats'>> = {
  open: 'port',
  counters: 'stats',
};

/** Undefined when `m` is a message from a primary as this daemon understands them, else what is
 * wrong with it. */
export function fromPrimaryProblem(m: unknown): string | undefined {
  if (typeof m !== 'object' || m === null || Array.isArray(m))
    return 'the message is not an object';
  if ('id' in m) return replyShape(m, 'the reply');
  const ev = (m as { ev?: unknown }).ev;
  if (typeof ev !== 'string' || !Object.hasOwn(noticeShapes, ev))
    return `the notice's ev is ${JSON.stringify(ev) ?? 'missing'}, not one herd knows`;
  return noticeShapes[ev as Notice['ev']](m, `the ${ev} notice`);
}

/** Undefined when a successful reply to `op` carries what the daemon reads from it. */
export function answerProblem(op: Request['op'], r: Reply): string | undefined {
  const needs = ANSWER_CARRIES[op];
  return r.ok && needs && r[needs] === undefined ? `the ${op} reply has no ${needs}` : undefined;
}
