// A throwaway project folder for Docker end-to-end tests: its compose file, a sandbox that runs
// `herd` against the test engine, and a cleanup that removes whatever the project left in it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { ensureDockerd } from './dockerd.ts';
import { ensureNodeImage, NODE_IMAGE } from './docker-images.ts';
import { uniqueProjectName } from './docker-project.ts';
import { sandbox, type Sandbox } from './e2e.ts';
import { tempDir } from './tmp.ts';

export interface DockerBox {
  docker: Dockerode;
  project: string;
  box: Sandbox;
  /** Selects the project's containers and networks by Compose's project label. */
  filters: { label: string[] };
  /** Removes the folder, then any container or network of the project still in the engine. */
  cleanup(): Promise<void>;
}

/** `services(image)` returns the body of the compose file's `services:` (image: the node test image). */
export async function dockerBox(
  tag: string,
  services: (image: string) => string,
): Promise<DockerBox> {
  const { docker, socketPath } = await ensureDockerd();
  await ensureNodeImage(docker);
  const project = uniqueProjectName(tag);
  const root = tempDir(`e2e-docker-${tag}`);
  const dir = join(root, 'app');
  mkdirSync(dir);
  writeFileSync(join(dir, 'compose.yaml'), `name: ${project}\nservices:\n${services(NODE_IMAGE)}`);
  const box = sandbox(root, dir, { DOCKER_HOST: `unix://${socketPath}` });
  const filters = { label: [`com.docker.compose.project=${project}`] };
  return {
    docker,
    project,
    box,
    filters,
    async cleanup() {
      box.cleanup();
      for (const c of await docker.listContainers({ all: true, filters }))
        await docker.getContainer(c.Id).remove({ force: true });
      for (const n of await docker.listNetworks({ filters }))
        await docker.getNetwork(n.Id).remove();
    },
  };
}
