// A small time-series chart (uPlot) of one number of one service over the last minutes.
import { html } from 'htm/preact';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { Sample } from './types.ts';

export interface ChartProps {
  title: string;
  samples: Sample[];
  value: (s: Sample) => number | null;
  format: (n: number) => string;
}

export function Chart({ title, samples, value, format }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const data: uPlot.AlignedData = [samples.map((s) => s.t / 1000), samples.map(value)];

  useEffect(() => {
    if (!box.current) return;
    plot.current = new uPlot(
      {
        width: 260,
        height: 90,
        legend: { show: false },
        cursor: { show: false },
        scales: {
          x: { time: true },
          // From zero to a little above the largest value (1 when there is none yet): latencies
          // of a few ms must not be drawn flat against a 1 s axis.
          y: { range: (_u, _min, max) => [0, max && max > 0 ? max * 1.1 : 1] },
        },
        axes: [
          { show: false },
          { size: 46, values: (_u, ticks) => ticks.map(format), font: '10px system-ui', gap: 2 },
        ],
        series: [{}, { stroke: '#2f7ed8', fill: 'rgba(47,126,216,0.12)', width: 1.5 }],
      },
      data,
      box.current,
    );
    return () => plot.current?.destroy();
  }, []);

  useEffect(() => plot.current?.setData(data), [samples]);

  const last = samples.length > 0 ? value(samples[samples.length - 1]!) : null;
  return html`<figure class="chart">
    <figcaption>${title} <b>${last === null ? '–' : format(last)}</b></figcaption>
    <div ref=${box}></div>
  </figure>`;
}
