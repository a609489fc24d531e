// The public status page: renders /status.json (routes, regions and providers, uptime, incidents) and
// refreshes it. Text only through textContent: nothing from the server is parsed as markup.
const refreshMs = 15_000;
const words = { healthy: 'Operational', degraded: 'Degraded', down: 'Down' };
const headlines = { healthy: 'All systems operational', degraded: 'Some systems degraded', down: 'Major outage' };

function el(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

const percent = (value) => (value === null ? 'no data yet' : `${(value * 100).toFixed(value === 1 ? 0 : 2)} %`);
const when = (iso) => new Date(iso).toLocaleString([], { hour12: false });
const duration = (ms) => (ms < 60_000 ? `${Math.round(ms / 1000)} s` : ms < 7_200_000 ? `${Math.round(ms / 60_000)} min` : `${(ms / 3_600_000).toFixed(1)} h`);

/**
 * Uptime as observed, with the period it covers: "96.67 % · last 11 min". While the gateway is
 * younger than a window, the windows cover the same minutes, so one figure is shown, not three.
 */
function uptimeText(detail) {
  const windows = [['24h', '24 h'], ['7d', '7 d'], ['90d', '90 d']];
  const shown = [];
  for (const [key] of windows) {
    const window = detail[key];
    if (window.uptime === null) continue;
    if (shown.some((other) => other.covered_ms === window.covered_ms)) continue;
    shown.push(window);
  }
  if (shown.length === 0) return 'no data yet';
  return shown.map((window) => `${percent(window.uptime)} · ${window.label}`).join(' · ');
}

/** 90 day bars, oldest first, as statuspage.io draws them: grey without data, then by the worst of the day. */
function historyBars(history) {
  const bars = el('div', 'bars');
  for (const day of history) {
    const state = day.uptime === null ? 'none' : day.down_ms > 0 ? 'down' : day.degraded_ms > 0 ? 'degraded' : 'healthy';
    const bar = el('span', `bar ${state}`);
    bar.dataset.date = day.date;
    bar.dataset.uptime = day.uptime === null ? '' : String(day.uptime);
    const parts = day.uptime === null ? ['no data'] : [percent(day.uptime), day.down_ms > 0 ? `down ${duration(day.down_ms)}` : '', day.degraded_ms > 0 ? `degraded ${duration(day.degraded_ms)}` : '', `of ${duration(day.observed_ms)} observed`];
    bar.title = `${day.date}: ${parts.filter(Boolean).join(', ')}`;
    bars.append(bar);
  }
  return bars;
}

function component(item) {
  const row = el('li', `component ${item.status}`);
  row.dataset.name = item.name;
  row.dataset.status = item.status;
  const head = el('div', 'head');
  head.append(el('span', 'name', item.name), el('span', 'uptime muted', uptimeText(item.uptime_detail)), el('span', `state ${item.status}`, words[item.status] ?? item.status));
  const legend = el('div', 'legend muted');
  legend.append(el('span', '', '90 days ago'), el('span', '', 'today'));
  row.append(head, historyBars(item.history), legend);
  return row;
}

/** A region: its own status and history, and the providers that run there. */
function region(item) {
  const row = component(item);
  row.dataset.region = item.name;
  row.insertBefore(el('div', 'muted providers', item.providers.join(', ')), row.children[1] ?? null);
  return row;
}

function incident(item) {
  const row = el('li', `incident ${item.status}`);
  row.append(el('strong', '', item.summary));
  const affected = [...item.routes, ...item.providers].join(', ');
  const period = item.resolved_at ? `${when(item.started_at)} – ${when(item.resolved_at)}` : `since ${when(item.started_at)}`;
  row.append(el('div', 'muted', `${item.status === 'ongoing' ? 'Ongoing' : 'Resolved'} · ${period}${affected ? ` · ${affected}` : ''}`));
  return row;
}

async function refresh() {
  try {
    const response = await fetch('/status.json', { cache: 'no-store' });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const status = await response.json();
    const overall = document.getElementById('overall');
    overall.className = `overall ${status.status}`;
    overall.dataset.status = status.status;
    overall.textContent = headlines[status.status] ?? status.status;
    document.getElementById('routes').replaceChildren(...status.routes.map(component));
    document.getElementById('providers').replaceChildren(...status.providers.map(component));
    const regions = status.regions ?? [];
    document.getElementById('regions-section').hidden = regions.length === 0;
    document.getElementById('regions').replaceChildren(...regions.map(region));
    const incidents = document.getElementById('incidents');
    incidents.replaceChildren(...(status.incidents.length > 0 ? status.incidents.map(incident) : [el('li', 'muted', 'No incidents.')]));
    document.getElementById('updated').textContent = when(status.updated_at);
  } catch (error) {
    document.getElementById('updated').textContent = `failed (${error.message}), retrying`;
  } finally {
    setTimeout(refresh, refreshMs);
  }
}

void refresh();
