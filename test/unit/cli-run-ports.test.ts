// `herd run -p` and `--service-ports`: which ports the one-off container publishes, as
// `docker compose run` decides (none unless asked; the service's own with --service-ports).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runPorts } from '../../src/cli/commands/run.ts';
import { testService } from '../helpers/docker-project.ts';

describe('herd run: published ports', () => {
  const web = testService('web', {
    ports: [{ target: 3000, protocol: 'tcp', published: { start: 8080, end: 8080 } }],
  });

  it('none by default; -p in the short syntax; --service-ports adds the service’s own', () => {
    assert.deepEqual(runPorts({ publish: [] }, web), []);
    assert.deepEqual(runPorts({ publish: ['127.0.0.1:9229:9229'] }, web), [
      { target: 9229, protocol: 'tcp', published: { start: 9229, end: 9229 }, hostIp: '127.0.0.1' },
    ]);
    assert.deepEqual(
      runPorts({ publish: ['9229/udp'], servicePorts: true }, web).map((p) => [
        p.target,
        p.protocol,
      ]),
      [
        [3000, 'tcp'],
        [9229, 'udp'],
      ],
    );
  });

  it('a bad -p is an error that names it', () => {
    assert.throws(() => runPorts({ publish: ['80:abc'] }, web), /^HerdError: --publish 80:abc: /);
    assert.throws(
      () => runPorts({ publish: ['53/sctp'] }, web),
      /--publish 53\/sctp: unsupported protocol/,
    );
  });
});
