// The HTTP balancer's limits and timeouts, and what a listener hands each of its sessions.
import type { Balancer } from './balancer.ts';

export interface HttpLimits {
  maxHeaderBytes: number;
  maxHeaders: number;
  headerTimeoutMs: number;
  idleTimeoutMs: number;
  holdMs: number;
  connectTimeoutMs: number;
  upstreamTimeoutMs: number;
  /** Request bodies up to this size are buffered so the request can be replayed. */
  retryBodyMax: number;
  maxAttempts: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  maxHeaderBytes: 16 * 1024,
  maxHeaders: 100,
  headerTimeoutMs: 10_000,
  idleTimeoutMs: 60_000,
  holdMs: 5_000,
  connectTimeoutMs: 3_000,
  upstreamTimeoutMs: 60_000,
  retryBodyMax: 64 * 1024,
  maxAttempts: 4,
};

export interface HttpListenerContext {
  balancer: Balancer;
  limits: HttpLimits;
  /** The port clients connected to, for X-Forwarded-Port. */
  port: number;
  /** Pass on the client's X-Forwarded-* (the ingress's pool: the ingress met the client). */
  keepForwarded?: boolean;
}
