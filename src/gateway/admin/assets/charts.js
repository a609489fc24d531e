// Small canvas line charts for the dashboard: no library, no build step. A chart redraws from
// scratch on every update (a few hundred points), sized for the device's pixel ratio.

const palette = { grid: '#2a3342', axis: '#8b95a7', text: '#c9d1dd' };

function niceCeiling(value) {
  if (!(value > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (value <= step * magnitude) return step * magnitude;
  return 10 * magnitude;
}

function formatTick(value) {
  if (value >= 1000) return `${(value / 1000).toFixed(value >= 10_000 ? 0 : 1)}k`;
  if (value >= 10 || value === 0) return String(Math.round(value));
  return value.toFixed(value >= 1 ? 1 : 2);
}

function clock(ms) {
  const date = new Date(ms);
  return `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`;
}

/**
 * Draws series over shared times.
 * @param {HTMLCanvasElement} canvas
 * @param {{ times: number[], series: Array<{ label: string, color: string, values: Array<number|null> }>, unit?: string }} data
 */
export function drawLineChart(canvas, data) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const context = canvas.getContext('2d');
  if (!context) return;
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  context.clearRect(0, 0, width, height);
  context.font = '11px system-ui, sans-serif';

  const left = 44;
  const right = 10;
  const top = 22;
  const bottom = 22;
  const plotWidth = Math.max(1, width - left - right);
  const plotHeight = Math.max(1, height - top - bottom);
  const values = data.series.flatMap((series) => series.values.filter((value) => value !== null));
  const maximum = niceCeiling(Math.max(0, ...values));
  const count = data.times.length;
  const x = (index) => left + (count <= 1 ? plotWidth : (index / (count - 1)) * plotWidth);
  const y = (value) => top + plotHeight - (value / maximum) * plotHeight;

  // Grid and y ticks.
  context.strokeStyle = palette.grid;
  context.fillStyle = palette.axis;
  context.lineWidth = 1;
  context.textAlign = 'right';
  context.textBaseline = 'middle';
  for (let tick = 0; tick <= 4; tick++) {
    const value = (maximum / 4) * tick;
    const position = Math.round(y(value)) + 0.5;
    context.beginPath();
    context.moveTo(left, position);
    context.lineTo(left + plotWidth, position);
    context.stroke();
    context.fillText(formatTick(value), left - 6, position);
  }
  // Time ticks: first, middle, last.
  context.textAlign = 'center';
  context.textBaseline = 'top';
  if (count > 0) {
    // The first and last labels are aligned inwards, so that neither is clipped at the canvas edge.
    const ticks = [...new Set([0, Math.floor((count - 1) / 2), count - 1])];
    for (const index of ticks) {
      context.textAlign = ticks.length > 1 && index === 0 ? 'left' : ticks.length > 1 && index === count - 1 ? 'right' : 'center';
      context.fillText(clock(data.times[index]), x(index), top + plotHeight + 6);
    }
  }
  // Lines: a gap where a value is missing (no requests in that bucket); a lone point is a dot.
  for (const series of data.series) {
    context.strokeStyle = series.color;
    context.fillStyle = series.color;
    context.lineWidth = 1.6;
    context.beginPath();
    series.values.forEach((value, index) => {
      if (value === null) return;
      const previous = series.values[index - 1];
      const next = series.values[index + 1];
      if (previous === null || previous === undefined) context.moveTo(x(index), y(value));
      else context.lineTo(x(index), y(value));
      if ((previous === null || previous === undefined) && (next === null || next === undefined)) context.fillRect(x(index) - 1.5, y(value) - 1.5, 3, 3);
    });
    context.stroke();
  }
  // Legend.
  context.textAlign = 'left';
  context.textBaseline = 'middle';
  let legendX = left;
  for (const series of data.series) {
    context.fillStyle = series.color;
    context.fillRect(legendX, 7, 10, 3);
    context.fillStyle = palette.text;
    const label = data.unit ? `${series.label} (${data.unit})` : series.label;
    context.fillText(label, legendX + 14, 9);
    legendX += context.measureText(label).width + 30;
  }
}

const svgNs = 'http://www.w3.org/2000/svg';
const targetPalette = ['#5aa9ff', '#7bd88f', '#c792ea', '#4fd6be', '#f0c36d', '#ff8fb1', '#a0a8b8', '#b5e07a'];
const failedColor = '#ff6b6b';

function svg(tag, attributes = {}, text) {
  const element = document.createElementNS(svgNs, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

export function targetColor(index) {
  return targetPalette[index % targetPalette.length];
}

function label(ms, stepMs) {
  const date = new Date(ms);
  const hm = `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`;
  return stepMs >= 3_600_000 ? `${date.getMonth() + 1}/${date.getDate()} ${hm}` : hm;
}

/**
 * Requests per bucket stacked by serving target, failures in red on top; incidents shaded and
 * circuit openings marked on the time axis. SVG, so that every bar carries its counts.
 * @param {SVGSVGElement} root
 * @param {{ from: number, to: number, step_ms: number, targets: string[], buckets: Array<{ t: number, served: number[], failed: number }>, incidents: Array<{ title: string, from: number, to: number|null, state: string }>, circuit_openings: Array<{ at: number, target: string }> }} data
 */
export function drawTrafficChart(root, data) {
  const width = Math.max(320, root.clientWidth || 900);
  const height = 220;
  const margin = { left: 44, right: 12, top: 10, bottom: 24 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  root.setAttribute('viewBox', `0 0 ${width} ${height}`);
  root.replaceChildren();
  const totals = data.buckets.map((bucket) => bucket.served.reduce((sum, count) => sum + count, 0) + bucket.failed);
  const maximum = niceCeiling(Math.max(1, ...totals));
  const span = Math.max(1, data.to - data.from);
  const x = (ms) => margin.left + ((Math.min(Math.max(ms, data.from), data.to) - data.from) / span) * plotWidth;
  const y = (value) => margin.top + plotHeight - (value / maximum) * plotHeight;
  for (let tick = 0; tick <= 4; tick++) {
    const value = (maximum / 4) * tick;
    root.append(svg('line', { x1: margin.left, x2: width - margin.right, y1: y(value), y2: y(value), stroke: palette.grid }));
    root.append(svg('text', { x: margin.left - 6, y: y(value) + 4, 'text-anchor': 'end', class: 'tick' }, formatTick(value)));
  }
  const barWidth = Math.max(1, (data.step_ms / span) * plotWidth - 1);
  for (const bucket of data.buckets) {
    const group = svg('g', { class: 'bucket', 'data-t': bucket.t, 'data-failed': bucket.failed, 'data-served': bucket.served.join(',') });
    let stacked = 0;
    const segments = [...bucket.served.map((value, index) => ({ value, color: targetColor(index), name: data.targets[index] })), { value: bucket.failed, color: failedColor, name: 'failed' }];
    for (const segment of segments) {
      if (!(segment.value > 0)) continue;
      const rect = svg('rect', { class: 'bar', x: x(bucket.t), y: y(stacked + segment.value), width: barWidth, height: Math.max(0.5, y(stacked) - y(stacked + segment.value)), fill: segment.color, 'data-target': segment.name });
      rect.append(svg('title', {}, `${label(bucket.t, data.step_ms)}: ${segment.name} ${segment.value}`));
      group.append(rect);
      stacked += segment.value;
    }
    root.append(group);
  }
  for (const incident of data.incidents) {
    const left = x(incident.from);
    const right = x(incident.to ?? data.to);
    const rect = svg('rect', { class: `incident-mark ${incident.state}`, x: left, y: margin.top, width: Math.max(2, right - left), height: plotHeight, fill: '#f59e0b', 'fill-opacity': 0.18, stroke: '#d97706', 'stroke-opacity': 0.6 });
    rect.append(svg('title', {}, `${incident.title} (${incident.state})`));
    root.append(rect);
  }
  for (const opening of data.circuit_openings) {
    const at = x(opening.at);
    const line = svg('line', { class: 'circuit-mark', x1: at, x2: at, y1: margin.top, y2: margin.top + plotHeight, stroke: failedColor, 'stroke-dasharray': '3 3' });
    line.append(svg('title', {}, `circuit of ${opening.target} opened at ${new Date(opening.at).toLocaleTimeString([], { hour12: false })}`));
    root.append(line);
  }
  root.append(svg('line', { x1: margin.left, x2: width - margin.right, y1: margin.top + plotHeight, y2: margin.top + plotHeight, stroke: palette.axis }));
  const tickTimes = [data.from, data.from + span / 2, data.to];
  tickTimes.forEach((at, index) => {
    const anchor = index === 0 ? 'start' : index === tickTimes.length - 1 ? 'end' : 'middle';
    root.append(svg('text', { x: x(at), y: height - 6, 'text-anchor': anchor, class: 'tick axis-time' }, label(at, data.step_ms)));
  });
}
