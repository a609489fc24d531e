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
    for (const index of [0, Math.floor((count - 1) / 2), count - 1]) {
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
