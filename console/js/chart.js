// A horizontal stacked bar chart in SVG, drawn by hand: one bar per row, a unique segment and a
// shared segment, a value axis with round ticks. Colours come from the stylesheet (classes).

import {formatBytes, s} from './dom.js';

const WIDTH = 900;
const LABEL_W = 250;
const VALUE_W = 150;
const ROW_H = 34;
const BAR_H = 18;
const TOP = 8;
const AXIS_H = 26;

// A "nice" step (1, 2 or 5 times a power of ten) that splits max into about `count` parts.
export function niceStep(max, count = 5) {
  if (!(max > 0)) return 1;
  const raw = max / count;
  const pow = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) {
    if (m * pow >= raw) return m * pow;
  }
  return 10 * pow;
}

function clip(text, max) {
  return text.length > max ? text.slice(0, max - 1) + '\u2026' : text;
}

// rows: [{label, sub, unique, shared}] (bytes). Returns an <svg>.
export function storageChart(rows) {
  const plotW = WIDTH - LABEL_W - VALUE_W;
  const maxTotal = Math.max(1, ...rows.map((r) => r.unique + r.shared));
  const step = niceStep(maxTotal);
  const axisMax = Math.ceil(maxTotal / step) * step;
  const x = (v) => LABEL_W + (v / axisMax) * plotW;
  const height = TOP + rows.length * ROW_H + AXIS_H;
  const svg = s('svg', {viewBox: `0 0 ${WIDTH} ${height}`, role: 'img', id: 'usage-chart',
                        'aria-label': 'Stored bytes per image, unique and shared'});

  for (let v = 0; v <= axisMax + step / 2; v += step) {
    svg.append(s('line', {class: 'grid', x1: x(v), x2: x(v), y1: TOP - 4, y2: TOP + rows.length * ROW_H}),
               s('text', {class: 'axis', x: x(v), y: height - 8, 'text-anchor': 'middle'}, formatBytes(v)));
  }
  rows.forEach((r, i) => {
    const y = TOP + i * ROW_H + (ROW_H - BAR_H) / 2;
    const g = s('g', {class: 'bar', 'data-label': r.label});
    g.append(s('title', {}, `${r.label}: ${formatBytes(r.unique)} unique, ${formatBytes(r.shared)} shared`),
             s('text', {x: LABEL_W - 12, y: y + BAR_H / 2 + 4, 'text-anchor': 'end'}, clip(r.label, 34)),
             s('rect', {class: 'unique', x: x(0), y, height: BAR_H, rx: 2,
                        width: Math.max(r.unique > 0 ? 1 : 0, x(r.unique) - x(0))}),
             s('rect', {class: 'shared', x: x(r.unique), y, height: BAR_H, rx: 2,
                        width: Math.max(r.shared > 0 ? 1 : 0, x(r.unique + r.shared) - x(r.unique))}),
             s('text', {x: x(r.unique + r.shared) + 8, y: y + BAR_H / 2 + 4},
               formatBytes(r.unique + r.shared)));
    svg.append(g);
  });
  return svg;
}
