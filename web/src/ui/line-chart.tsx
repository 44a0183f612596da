import type { ComponentChildren } from 'preact';
import { formatCount } from './format.js';

/**
 * A small line chart drawn as SVG with Preact elements (no chart library, no HTML strings, no style
 * attributes: the panel's CSP), colours from classes so dark mode follows. The SVG is an image
 * to assistive technology (role="img" with a summary the page writes); the numbers themselves
 * are in the table the page puts next to it (`children`, shown under "Show the numbers").
 */
export interface Series {
  name: string;
  /** A class of styles.css: series-delivered, series-deferred, series-failed, ... */
  cls: string;
  values: readonly number[];
}

const W = 640;
const H = 220;
const LEFT = 48;
const RIGHT = 12;
const TOP = 12;
const BOTTOM = 28;
const PW = W - LEFT - RIGHT;
const PH = H - TOP - BOTTOM;

/** A round top for the y axis: 1, 2, 5, 10, 20, 50, ... at least the largest value. */
export function niceMax(max: number): number {
  if (max <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

export function LineChart({
  id,
  summary,
  xLabels,
  series,
  children,
}: {
  id: string;
  /** What a screen reader hears instead of the picture: what is drawn and its main numbers. */
  summary: string;
  /** One short label per point (the x axis shows a few of them). */
  xLabels: readonly string[];
  series: readonly Series[];
  /** The same numbers as a table. */
  children: ComponentChildren;
}) {
  const n = xLabels.length;
  const top = niceMax(Math.max(0, ...series.flatMap((s) => s.values)));
  const x = (i: number) => LEFT + (n <= 1 ? PW / 2 : (i * PW) / (n - 1));
  const y = (v: number) => TOP + PH - (v / top) * PH;
  const every = Math.max(1, Math.ceil(n / 6));
  // Counts are whole numbers: no 2.5 on the axis.
  const ticks = Number.isInteger(top / 2) ? [0, top / 2, top] : [0, top];
  return (
    <figure class="chart">
      <figcaption id={`${id}-caption`} class="chart-legend">
        {series.map((s) => (
          <span key={s.name} class="legend-item">
            <span class={`legend-swatch ${s.cls}`} aria-hidden="true" />
            {s.name}
          </span>
        ))}
      </figcaption>
      <svg class="chart-svg" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={summary} focusable="false">
        {ticks.map((v) => (
          <g key={v} class="chart-grid">
            <line x1={LEFT} x2={W - RIGHT} y1={y(v)} y2={y(v)} />
            <text x={LEFT - 6} y={y(v) + 4} text-anchor="end">
              {formatCount(v)}
            </text>
          </g>
        ))}
        {xLabels.map((label, i) =>
          i % every === 0 || i === n - 1 ? (
            <text key={label} class="chart-x" x={x(i)} y={H - 8} text-anchor={i === 0 ? 'start' : i === n - 1 ? 'end' : 'middle'}>
              {i !== n - 1 && i % every === 0 && n - 1 - i < every / 2 ? '' : label}
            </text>
          ) : null,
        )}
        {series.map((s) => (
          <g key={s.name} class={`chart-series ${s.cls}`}>
            <polyline fill="none" points={s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ')} />
            {n <= 48 && s.values.map((v, i) => <circle key={i} cx={x(i).toFixed(1)} cy={y(v).toFixed(1)} r="2.5" />)}
          </g>
        ))}
      </svg>
      <details class="chart-table">
        <summary>Show the numbers</summary>
        {children}
      </details>
    </figure>
  );
}
