// Labels on every container, network and volume herd creates: Compose's, so `docker compose ps`
// and other tools recognise them, plus herd's own for adoption.

export const COMPOSE_PROJECT = 'com.docker.compose.project';
export const COMPOSE_SERVICE = 'com.docker.compose.service';
export const COMPOSE_NUMBER = 'com.docker.compose.container-number';
export const COMPOSE_ONEOFF = 'com.docker.compose.oneoff';
/** A one-off (`run`) container's full random id. */
export const COMPOSE_SLUG = 'com.docker.compose.slug';
export const COMPOSE_WORKING_DIR = 'com.docker.compose.project.working_dir';
export const COMPOSE_CONFIG_FILES = 'com.docker.compose.project.config_files';
export const COMPOSE_CONFIG_HASH = 'com.docker.compose.config-hash';
export const COMPOSE_NETWORK = 'com.docker.compose.network';
export const COMPOSE_VOLUME = 'com.docker.compose.volume';

export const HERD_MANAGED = 'dev.herd.managed';
export const HERD_PROJECT = 'dev.herd.project';
export const HERD_SERVICE = 'dev.herd.service';
export const HERD_REPLICA = 'dev.herd.replica';
/** Hash of everything a replica's container was created from except its host ports: a running
 * container is adopted by a later herd only while this still matches. */
export const HERD_CONFIG_HASH = 'dev.herd.config-hash';

export function projectLabels(project: string): Record<string, string> {
  return { [COMPOSE_PROJECT]: project, [HERD_MANAGED]: 'true', [HERD_PROJECT]: project };
}

/** Engine filter selecting everything herd created for `project`. */
export function projectFilter(project: string): { label: string[] } {
  return { label: [`${HERD_PROJECT}=${project}`] };
}
