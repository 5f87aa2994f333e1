// The proxy process group runs at the scheduling priority it is given (issue 12: the balancer
// should win the CPU over the replicas the daemon starts, as nginx's worker_priority): the primary
// sets it before it forks its workers, so they serve at it too. Real processes; a nice value above
// this process's, which any user may take, so the test holds unprivileged too.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createProxy, type Proxy } from '../../src/proxy/index.ts';
import { freePort, makeProject, makeService, port } from '../helpers/backends.ts';

describe('proxy process group: scheduling priority', () => {
  let dir: string;
  let proxy: Proxy;
  const nice = Math.min(19, os.getPriority() + 3);

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'herd-prio-'));
    const lp = await freePort();
    const svc = makeService('web', { ports: [port(lp, 80, { appProtocol: 'http' })] });
    const project = { ...makeProject([svc]), herd: { extra: { proxy: { workers: 2 } } } };
    proxy = createProxy(project, { process: { dir, nice } });
    await proxy.listen();
  });

  after(async () => {
    await proxy.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the primary and every worker run at the nice value asked for', () => {
    const primary = proxy.primaryPid();
    assert.ok(primary !== undefined && primary !== process.pid);
    const workers = proxy.workerPids();
    assert.equal(workers.length, 2);
    for (const pid of [primary, ...workers]) assert.equal(os.getPriority(pid), nice, `pid ${pid}`);
    assert.notEqual(os.getPriority(), nice, 'this process kept its own');
  });
});
