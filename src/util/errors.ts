// Errors meant for the user: the message says what happened, where, and what to do; the code says
// which kind of failure it is, so callers (and the CLI across the control socket) branch on it,
// never on the message text.

/** Every kind of failure herd reports. Stable: the control API sends them to the CLI. */
export type HerdErrorCode =
  /** A failure no more specific code describes. */
  | 'FAILED'
  /** A bad argument, flag or value from the user. */
  | 'INVALID_ARGUMENT'
  /** A compose file that cannot be loaded. */
  | 'COMPOSE_INVALID'
  /** A service name the project does not have. */
  | 'NO_SUCH_SERVICE'
  /** A service herd cannot run as defined (no command for a process, …). */
  | 'NOT_RUNNABLE'
  /** The request conflicts with what is going on (a restart already running, shutting down). */
  | 'CONFLICT'
  /** A replacement replica did not become ready: the rollout stopped. */
  | 'ROLLOUT_FAILED'
  /** An update failed and herd rolled the service back to its previous definition. */
  | 'ROLLED_BACK'
  /** A port or address question with no answer (no host port for that replica). */
  | 'NO_HOST_PORT'
  /** A host port is taken or cannot be bound. */
  | 'PORT_UNAVAILABLE'
  /** No daemon runs for the project. */
  | 'NO_DAEMON'
  /** A daemon holds the socket but does not answer. */
  | 'DAEMON_UNRESPONSIVE'
  /** The daemon answered something the client does not understand. */
  | 'BAD_REPLY'
  /** The container or process runtime failed (Docker engine down, spawn failed). */
  | 'RUNTIME'
  /** herd's state dir or state file cannot be used. */
  | 'STATE';

export class HerdError extends Error {
  constructor(
    message: string,
    readonly code: HerdErrorCode = 'FAILED',
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'HerdError';
  }
}

/** True when `err` is a HerdError of that code. */
export function isHerdError(err: unknown, code?: HerdErrorCode): err is HerdError {
  return err instanceof HerdError && (code === undefined || err.code === code);
}
