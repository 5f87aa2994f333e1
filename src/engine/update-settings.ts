// How one update of a service runs: `deploy.update_config` (or `rollback_config` for a rollback)
// with Swarm's defaults for the keys not written. A service with neither block keeps herd's own
// rolling restart (x-herd.rollout: traffic-aware order, no monitor, a failure pauses), so files
// written without Swarm in mind behave as before.
import type { Service } from '../compose/model.ts';
import { checkRollout, ownsHostPort } from '../compose/herd-settings.ts';
import {
  SWARM_UPDATE_DEFAULTS,
  type FailureAction,
  type UpdateConfig,
  type UpdateOrder,
} from '../compose/update-config.ts';
import { HerdError } from '../util/errors.ts';
import { rolloutSettings } from './rollout.ts';

export type { FailureAction };

export interface UpdateSettings {
  /** Replicas replaced at once (0 in the file, all at once, is resolved to the count). */
  parallelism: number;
  delayMs: number;
  failureAction: FailureAction;
  monitorMs: number;
  maxFailureRatio: number;
  order: UpdateOrder;
  /** How long a new replica may take to become ready (x-herd.rollout.ready_timeout). */
  readyTimeoutMs: number;
}

/** The settings of an update (`rollback`: of a rollback) of `service`. */
export function updateSettings(service: Service, rollback = false): UpdateSettings {
  const herd = rolloutSettings(service);
  const written = rollback
    ? (service.rollbackConfig ?? (service.updateConfig ? {} : undefined))
    : service.updateConfig;
  if (!written) {
    return {
      ...herd,
      delayMs: 0,
      failureAction: 'pause',
      monitorMs: 0,
      maxFailureRatio: 0,
    };
  }
  // x-herd.rollout's own keys still count where the Swarm block leaves them out.
  const own = checkRollout(service.herd.extra.rollout, service).value;
  const merged: Required<UpdateConfig> = {
    ...SWARM_UPDATE_DEFAULTS,
    ...(own.parallelism !== undefined ? { parallelism: own.parallelism } : {}),
    ...(own.order !== undefined ? { order: own.order } : {}),
    ...written,
  };
  if (rollback && merged.failureAction === 'rollback') merged.failureAction = 'pause';
  if (merged.order === 'start-first' && ownsHostPort(service)) {
    const block = rollback ? 'rollback_config' : 'update_config';
    throw new HerdError(
      `service "${service.name}": deploy.${block}.order: start-first cannot work here: each ` +
        'replica owns a host port of a published range, so a new replica could not listen next ' +
        'to the old one; use stop-first',
      'INVALID_ARGUMENT',
    );
  }
  return { ...merged, readyTimeoutMs: herd.readyTimeoutMs };
}
