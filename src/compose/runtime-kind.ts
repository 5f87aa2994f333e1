// Which runtime a service runs in, decided from the compose file alone (no engine is asked), so
// the loader, the env planner and the runtime chooser agree: `x-herd.runtime` forces one;
// otherwise a service with `image` or `build` is a container (as in Compose) and one with only
// `command` a process. A fact about the file, so compose owns it and runtime/ reads it.
import type { Service } from './model.ts';

export type RuntimeKind = 'process' | 'docker';

export function runtimeKind(service: Service): RuntimeKind {
  if (service.herd.runtime) return service.herd.runtime;
  return service.image !== undefined || service.build !== undefined ? 'docker' : 'process';
}
