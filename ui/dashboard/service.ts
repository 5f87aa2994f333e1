// One service: its numbers over time, its replicas, and what can be done to it.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { act, type Action } from './api.ts';
import { Chart } from './chart.ts';
import { bytes, endpoint, percent, rate, seconds, stateText } from './format.ts';
import type { Replica, Sample, Service } from './types.ts';

export interface ServiceProps {
  service: Service;
  replicas: Replica[];
  samples: Sample[];
}

export function ServiceCard({ service, replicas, samples }: ServiceProps) {
  const running = replicas.filter((r) => r.state === 'running').length;
  return html`<section class="service" data-service=${service.name}>
    <header>
      <h2>${service.name}</h2>
      <span class="count"
        >${running}/${service.scale} running${service.stopped ? ' · stopped' : ''}</span
      >
      <${Actions} service=${service} />
    </header>
    <div class="charts">
      <${Chart} title="req/s" samples=${samples} value=${(s: Sample) => s.rps} format=${rate} />
      <${Chart}
        title="p99 latency"
        samples=${samples}
        value=${(s: Sample) => s.p99 ?? null}
        format=${(n: number) => seconds(n)}
      />
      <${Chart}
        title="replicas"
        samples=${samples}
        value=${(s: Sample) => s.running}
        format=${(n: number) => n.toFixed(0)}
      />
      <${Chart}
        title="CPU"
        samples=${samples}
        value=${(s: Sample) => s.cpuPercent}
        format=${(n: number) => `${n.toFixed(0)}%`}
      />
    </div>
    <table class="replicas">
      <thead>
        <tr>
          <th>Name</th>
          <th>State</th>
          <th>Restarts</th>
          <th>Endpoint</th>
          <th>CPU</th>
          <th>Memory</th>
          <th>req/s</th>
          <th>p50</th>
          <th>p99</th>
        </tr>
      </thead>
      <tbody>
        ${replicas.map(
          (r) =>
            html`<tr key=${r.name} class=${`state-${r.state} health-${r.health}`}>
              <td class="name">${r.name}</td>
              <td title=${r.reason ?? ''}>${stateText(r)}</td>
              <td>${r.restarts}</td>
              <td>${endpoint(r)}</td>
              <td>${percent(r.cpuPercent)}</td>
              <td>${bytes(r.memBytes)}</td>
              <td>${r.traffic ? rate(r.traffic.rps ?? 0) : '–'}</td>
              <td>${seconds(r.traffic?.latency?.p50)}</td>
              <td>${seconds(r.traffic?.latency?.p99)}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}

function Actions({ service }: { service: Service }) {
  const [count, setCount] = useState(String(service.scale));
  // A scale from elsewhere (the CLI, the autoscaler) shows in the box.
  useEffect(() => setCount(String(service.scale)), [service.scale]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const run = (action: Action, body: unknown) => {
    setBusy(true);
    setError('');
    act(action, body)
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)))
      .finally(() => setBusy(false));
  };
  const scale = (e: Event) => {
    e.preventDefault();
    const n = Number(count);
    if (!Number.isInteger(n) || n < 0) return setError('the replica count is a whole number ≥ 0');
    run('scale', { [service.name]: n });
  };
  const services = { services: [service.name] };
  return html`<form class="actions" onSubmit=${scale}>
    <input
      type="number"
      min="0"
      aria-label=${`replicas of ${service.name}`}
      value=${count}
      onInput=${(e: Event) => setCount((e.target as HTMLInputElement).value)}
    />
    <button type="submit" disabled=${busy}>Scale</button>
    <button type="button" disabled=${busy} onClick=${() => run('restart', services)}>
      Restart
    </button>
    ${
      service.stopped
        ? html`<button type="button" disabled=${busy} onClick=${() => run('start', services)}>
            Start
          </button>`
        : html`<button type="button" disabled=${busy} onClick=${() => run('stop', services)}>
            Stop
          </button>`
    }
    ${error && html`<span class="error" role="alert">${error}</span>`}
  </form>`;
}
