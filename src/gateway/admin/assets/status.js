// The public status page: renders /status.json (routes and providers, uptime, incidents) and
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

const uptime = (value) => (value === null ? 'no data yet' : `${(value * 100).toFixed(value === 1 ? 0 : 2)} %`);
const when = (iso) => new Date(iso).toLocaleString([], { hour12: false });

function component(item) {
  const row = el('li', `component ${item.status}`);
  row.dataset.name = item.name;
  row.dataset.status = item.status;
  row.append(el('span', 'name', item.name), el('span', 'uptime muted', `24 h ${uptime(item.uptime['24h'])} · 7 d ${uptime(item.uptime['7d'])}`), el('span', `state ${item.status}`, words[item.status] ?? item.status));
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
