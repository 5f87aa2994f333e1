// herd's dashboard: the stack at a glance, live. Services with their charts, replicas and actions,
// and the event stream, all from the daemon through this page's own server.
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { html, render } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { follow } from './api.ts';
import { clock, eventText } from './format.ts';
import { ServiceCard } from './service.ts';
import type { HerdEvent, History, ServerMessage, State } from './types.ts';

const KEEP_SAMPLES = 600;
const KEEP_EVENTS = 200;

interface Model {
  state?: State;
  history: History;
  events: HerdEvent[];
  error?: string;
}

function App() {
  const [model, setModel] = useState<Model>({ history: {}, events: [] });
  const [live, setLive] = useState(false);
  useEffect(() => follow((m) => setModel((old) => apply(old, m)), setLive), []);
  const { state } = model;
  if (!state) return html`<p class="loading">${model.error ?? 'Loading the stack…'}</p>`;
  return html`<header class="top">
      <h1>${state.project}</h1>
      <span class=${live ? 'live' : 'stale'}>${live ? 'live' : 'reconnecting…'}</span>
      <span class="updated">updated ${clock(state.now)}</span>
      ${model.error && html`<span class="error">${model.error}</span>`}
    </header>
    <main>
      ${state.services.map(
        (s) =>
          html`<${ServiceCard}
            key=${s.name}
            service=${s}
            replicas=${state.replicas.filter((r) => r.service === s.name)}
            samples=${model.history[s.name] ?? []}
          />`,
      )}
      <section class="events">
        <h2>Events</h2>
        <ol>
          ${model.events
            .slice()
            .reverse()
            .slice(0, 50)
            .map((e) => html`<li><time>${clock(e.at)}</time> ${eventText(e)}</li>`)}
        </ol>
      </section>
    </main>`;
}

function apply(old: Model, m: ServerMessage): Model {
  switch (m.type) {
    case 'snapshot':
      return {
        ...old,
        state: m.state ?? old.state,
        history: m.history,
        events: m.events,
        error: m.error,
      };
    case 'state':
      return {
        ...old,
        state: m.state,
        history: append(old.history, m.sample),
        error: undefined,
      };
    case 'event':
      return { ...old, events: [...old.events, m.event].slice(-KEEP_EVENTS) };
    case 'error':
      return { ...old, error: `the daemon does not answer: ${m.error}` };
  }
}

function append(history: History, latest: History): History {
  const out: History = {};
  for (const [svc, samples] of Object.entries(latest))
    out[svc] = [...(history[svc] ?? []), ...samples].slice(-KEEP_SAMPLES);
  return out;
}

render(html`<${App} />`, document.getElementById('app')!);
