import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeExpansion } from '../../src/convert/env.ts';
import {
  composeSize,
  cpuQuantity,
  dnsLabel,
  goDuration,
  memoryQuantity,
  seconds,
} from '../../src/convert/names.ts';
import { httpCheck } from '../../src/convert/probes.ts';

describe('convert: names and units', () => {
  it('makes DNS-1035 labels of Compose service names', () => {
    assert.equal(dnsLabel('web'), 'web');
    assert.equal(dnsLabel('API_Server'), 'api-server');
    assert.equal(dnsLabel('my.app__v2'), 'my-app-v2');
    assert.equal(dnsLabel('2fa'), 's-2fa');
    assert.equal(dnsLabel('a'.repeat(80)).length, 63);
    assert.equal(dnsLabel(`${'a'.repeat(62)}_b`), 'a'.repeat(62));
  });

  it("writes Compose's binary sizes as Kubernetes quantities and CPUs as millicores", () => {
    assert.equal(memoryQuantity(512 * 2 ** 20), '512Mi');
    assert.equal(memoryQuantity(2 ** 30), '1Gi');
    assert.equal(memoryQuantity(1536 * 2 ** 20), '1536Mi');
    assert.equal(memoryQuantity(1000), '1000');
    assert.equal(cpuQuantity(0.5), '500m');
    assert.equal(cpuQuantity(2), '2');
    assert.equal(cpuQuantity(1.25), '1250m');
    assert.equal(cpuQuantity(0.0001), '1m');
  });

  it('rounds durations up to whole seconds, and writes Go durations for Swarm', () => {
    assert.equal(seconds(1500), 2);
    assert.equal(seconds(0), 1);
    assert.equal(seconds(0, 0), 0);
    assert.equal(goDuration(90_000), '1m30s');
    assert.equal(goDuration(3_600_000), '1h');
    assert.equal(goDuration(1500), '1500ms');
    assert.equal(goDuration(0), '0s');
    assert.equal(composeSize(512 * 2 ** 20), '512M');
    assert.equal(composeSize(2 ** 30), '1G');
    assert.equal(composeSize(1000), '1000b');
  });

  it('keeps $ as Compose gave it where Kubernetes expands $(VAR) and $$', () => {
    assert.equal(escapeExpansion('$(HOME)'), '$$(HOME)');
    assert.equal(escapeExpansion('a$$b'), 'a$$$b');
    assert.equal(escapeExpansion('$5 and $HOME'), '$5 and $HOME');
  });

  it('recognises only HTTP checks of the container itself as httpGet', () => {
    const exec = (...argv: string[]) => httpCheck({ kind: 'exec', argv });
    assert.deepEqual(exec('curl', '-f', 'http://localhost:5000/health'), {
      path: '/health',
      port: 5000,
    });
    assert.deepEqual(exec('curl', '-fsS', 'http://127.0.0.1/'), { path: '/', port: 80 });
    assert.deepEqual(
      httpCheck({ kind: 'shell', command: 'curl -f https://localhost:8443/x || exit 1' }),
      {
        path: '/x',
        port: 8443,
        scheme: 'HTTPS',
      },
    );
    assert.deepEqual(exec('wget', '-q', '--spider', 'http://localhost:8080/ping'), {
      path: '/ping',
      port: 8080,
    });
    // curl without -f succeeds on a 500; another host; extra options: not an httpGet
    assert.equal(exec('curl', 'http://localhost:5000/health'), undefined);
    assert.equal(exec('curl', '-f', 'http://db:5000/health'), undefined);
    assert.equal(exec('curl', '-f', '-H', 'Host: x', 'http://localhost/'), undefined);
    assert.equal(exec('redis-cli', 'ping'), undefined);
  });
});
