// The lines under `herd ps` that say where a service's last update stands: shown while it runs
// and when it did not simply complete (paused, rolled back), with why.
import type { PsResponse } from '../../daemon/api-types.ts';
import type { UpdateStatus } from '../../engine/events.ts';
import { humanDuration } from './duration.ts';

const LABEL: Record<UpdateStatus['kind'], Record<UpdateStatus['state'], string>> = {
  update: {
    updating: 'updating',
    completed: 'updated',
    paused: 'update paused',
    'rolling back': 'update failed, rolling back',
    'rolled back': 'update rolled back',
    'rollback paused': 'rollback paused',
  },
  restart: {
    updating: 'restarting',
    completed: 'restarted',
    paused: 'restart paused',
    'rolling back': 'restarting',
    'rolled back': 'restarted',
    'rollback paused': 'restart paused',
  },
  rollback: {
    updating: 'rolling back',
    completed: 'rolled back',
    paused: 'rollback paused',
    'rolling back': 'update failed, rolling back',
    'rolled back': 'update rolled back',
    'rollback paused': 'rollback paused',
  },
};

export function formatUpdates(ps: PsResponse, services: string[]): string {
  const shown = (ps.updates ?? []).filter(
    (u) => u.state !== 'completed' && (services.length === 0 || services.includes(u.service)),
  );
  return shown
    .map((u) => {
      const head = `${u.service}: ${LABEL[u.kind][u.state]} (${humanDuration(ps.now - u.at).toLowerCase()} ago)`;
      return u.message ? `${head}: ${u.message}\n` : `${head}\n`;
    })
    .join('');
}
