import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PortSpec } from '../../src/compose/model.ts';
import { lookupPort } from '../../src/daemon/port-lookup.ts';
import type { ReplicaInfo } from '../../src/engine/events.ts';

const replica = (index: number, ports: Record<number, number>, state = 'running'): ReplicaInfo =>
  ({
    service: 'web',
    index,
    name: `p-web-${index}`,
    state,
    health: 'none',
    host: '127.0.0.1',
    ports,
    restarts: 0,
  }) as ReplicaInfo;

const published: PortSpec = {
  target: 5000,
  published: { start: 8080, end: 8080 },
  protocol: 'tcp',
};
const two = [replica(1, { 5000: 41001 }), replica(2, { 5000: 41002 })];

describe('lookupPort', () => {
  it('answers a published port with the balancer address for every replica it runs', () => {
    const svc = { ports: [published] };
    assert.equal(lookupPort(svc, two, 5000), '0.0.0.0:8080');
    assert.equal(lookupPort(svc, two, 5000, 'tcp', 2), '0.0.0.0:8080');
    // Index 1 still names the balancer when no replica runs (scale 0, stopped).
    assert.equal(lookupPort(svc, [], 5000, 'tcp', 1), '0.0.0.0:8080');
  });

  it('has no address for an index that names no replica', () => {
    const svc = { ports: [published] };
    assert.equal(lookupPort(svc, two, 5000, 'tcp', 3), undefined);
    assert.equal(lookupPort(svc, two, 5000, 'tcp', 1e20), undefined);
    assert.equal(lookupPort(svc, two, 5000, 'tcp', 0), undefined);
    assert.equal(lookupPort(svc, [...two, replica(3, {}, 'removed')], 5000, 'tcp', 3), undefined);
    const direct = { ports: [{ target: 5000, protocol: 'tcp' as const }] };
    assert.equal(lookupPort(direct, two, 5000, 'tcp', 2), '127.0.0.1:41002');
    assert.equal(lookupPort(direct, two, 5000, 'tcp', 3), undefined);
  });

  it('never answers UDP with a TCP port', () => {
    const svc = { ports: [published, { target: 5000, protocol: 'tcp' as const }] };
    assert.equal(lookupPort(svc, two, 5000, 'udp'), undefined);
    const unpublishedUdp = { ports: [{ target: 5000, protocol: 'udp' as const }] };
    assert.equal(lookupPort(unpublishedUdp, two, 5000, 'udp'), undefined);
    const publishedUdp: PortSpec = {
      target: 6060,
      published: { start: 6060, end: 6060 },
      protocol: 'udp',
    };
    assert.equal(lookupPort({ ports: [publishedUdp] }, two, 6060, 'udp'), '0.0.0.0:6060');
  });
});
