// What an exchange (http-exchange.ts, the replica side of a request) needs of the client
// connection it serves (http-session.ts): kept apart so each side reads the other's contract.
import type net from 'node:net';
import type { Member } from './balancer.ts';
import type { RequestHead } from './http-parse.ts';
import type { HttpListenerContext } from './http-limits.ts';

/** What the exchange needs of the client connection it serves (http-session.ts). */
export interface ClientSide {
  readonly client: net.Socket;
  readonly ctx: HttpListenerContext;
  /** The request being served. */
  readonly req: RequestHead | null;
  /** Whole request body when buffered (replayable); null when streamed or absent. */
  readonly bodyBuf: Buffer | null;
  /** The request body is all read (or there is none). */
  readonly bodyDone: boolean;
  /** The request may go to another replica after a lost connection (idempotent, replayable). */
  readonly retryable: boolean;
  /** An attempt at a replica is under way (not holding, answering or tunnelling). */
  readonly exchanging: boolean;
  /** Last progress on either side, for the idle and upstream timeouts. */
  lastActive: number;
  /** The request head as the replica gets it. */
  forwardedHead(): string;
  /** The head went to the replica on `sock`: a streamed body follows. */
  headSent(sock: net.Socket): void;
  /** The replica switched protocols; returns what the client sent past the request. */
  startTunnel(): Buffer | null;
  /** Request and response are both complete: next request, or close. */
  exchangeDone(): void;
  /** Answer the client with an error of herd's own and close. */
  reply(status: number, body: string): void;
  /** The attempt at `m` failed before any response byte: try another replica, if any is left. */
  retryOrFail(m: Member, what: string): void;
  readonly slowRetryLeft: boolean;
  /** Once per request (slowRetryLeft): another replica; the slow one stays a last resort. */
  retrySlow(): void;
  fail(err: unknown): void;
}
