// The control API's HTTP plumbing: JSON bodies in and out, and errors that carry their HTTP
// status and their HerdErrorCode to the client (which rebuilds a HerdError with that code).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HerdError, type HerdErrorCode } from '../../util/errors.ts';
import type { ErrorResponse } from '../api-types.ts';

/** A refused request: `status` for HTTP, `code` for the client to branch on. */
export class ApiError extends HerdError {
  constructor(
    readonly status: number,
    message: string,
    code: HerdErrorCode,
  ) {
    super(message, code);
    this.name = 'ApiError';
  }
}

const MAX_BODY = 1024 * 1024;

export function send(res: ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(data),
  });
  res.end(data);
}

/** Answers a failed request: a refusal with its status, any other HerdError as a bad request, and
 * anything else as the daemon's own failure. */
export function sendError(res: ServerResponse, err: unknown): void {
  const status = err instanceof ApiError ? err.status : err instanceof HerdError ? 400 : 500;
  const body: ErrorResponse = {
    error: err instanceof Error ? err.message : String(err),
    code: err instanceof HerdError ? err.code : 'FAILED',
  };
  send(res, status, body);
}

export async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new ApiError(413, 'request body too large', 'INVALID_ARGUMENT');
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ApiError(400, 'request body is not valid JSON', 'INVALID_ARGUMENT');
  }
}

export function parseNonNegative(value: string | null, what: string): number {
  const n = Number(value);
  if (value === null || value === '' || !Number.isInteger(n) || n < 0)
    throw new ApiError(
      400,
      `${what} must be a whole number ≥ 0, got ${JSON.stringify(value)}`,
      'INVALID_ARGUMENT',
    );
  return n;
}
