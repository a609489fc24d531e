// The operator's dashboard: polls /admin/api for state and listens to /admin/api/events for the
// live feed. Everything is rendered with DOM APIs and textContent, never innerHTML, so that no
// value from the gateway (a route name, an error) can inject markup.
import { drawLineChart, drawTrafficChart, targetColor } from '/dashboard/charts.js';

const refreshMs = 2000;
const costRefreshMs = 10_000;
const feedLimit = 80;

/** Builds an element: `el('td', { class: 'num' }, '12 ms')`. */
function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') element.className = value;
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

const percent = (value) => (value === null || value === undefined ? '–' : `${(value * 100).toFixed(value === 1 || value === 0 ? 0 : 1)} %`);
const ms = (value) => (value === null || value === undefined ? '–' : value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`);
const usd = (value) => (value === null || value === undefined ? '–' : value === 0 ? '$0' : value < 0.01 ? `$${value.toFixed(5)}` : `$${value.toFixed(2)}`);
const time = (iso) => (iso ? new Date(iso).toLocaleTimeString([], { hour12: false }) : '–');
const since = (iso) => {
  if (!iso) return '';
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return seconds < 90 ? `${seconds}s ago` : `${Math.round(seconds / 60)}m ago`;
};

function badge(value, field) {
  return el('span', { class: `badge ${value}`, dataset: { field } }, value.replace('_', '-'));
}

function fillBody(table, rows, emptyText) {
  const body = table.tBodies[0];
  body.replaceChildren(...(rows.length > 0 ? rows : [el('tr', { class: 'empty' }, el('td', { colspan: table.tHead.rows[0].cells.length }, emptyText))]));
}

async function getJson(path) {
  const response = await fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store' });
  if (response.status === 401) {
    window.location.assign('/dashboard');
    throw new Error('signed out');
  }
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

/**
 * The target rows, grouped by region when the config declares regions: a heading row per region
 * (its status and providers), its targets under it, targets of no region last.
 */
function groupedByRegion(overview, row) {
  const regions = overview.regions ?? [];
  if (regions.length === 0) return overview.targets.map(row);
  const columns = document.getElementById('targets').tHead.rows[0].cells.length;
  const rows = [];
  const groups = [...regions.map((region) => ({ region, members: overview.targets.filter((target) => target.region === region.name) })), { region: null, members: overview.targets.filter((target) => !target.region) }];
  for (const { region, members } of groups) {
    if (members.length === 0) continue;
    const heading = region ? [el('strong', {}, region.name), ' ', badge(region.status, 'region-status'), ` ${region.providers.join(', ')}`] : [el('strong', {}, 'no region')];
    rows.push(el('tr', { class: 'region-row', dataset: { region: region ? region.name : '' } }, el('td', { colspan: columns }, ...heading)));
    rows.push(...members.map(row));
  }
  return rows;
}

function renderOverview(overview) {
  const routesByTarget = new Map();
  for (const route of overview.routes) for (const target of route.targets) routesByTarget.set(target, [...(routesByTarget.get(target) ?? []), route.name]);

  const worst = overview.routes.some((route) => route.status === 'down') ? 'down' : overview.routes.some((route) => route.status === 'degraded') ? 'degraded' : 'healthy';
  const overall = document.getElementById('overall');
  overall.className = `badge ${worst}`;
  overall.textContent = worst;
  const totals = overview.totals.last_1m;
  document.getElementById('summary').textContent =
    `${(totals.requests / 60).toFixed(1)} req/s · ${percent(totals.success_rate)} success · p95 ${ms(totals.p95_ms)} (last minute)`;

  fillBody(
    document.getElementById('targets'),
    groupedByRegion(overview, (target) =>
      el(
        'tr',
        { dataset: { target: target.id, state: target.state }, class: target.state === 'failing' ? 'alert' : undefined },
        el('td', { class: 'mono' }, target.id),
        el('td', {}, (routesByTarget.get(target.id) ?? []).join(', ') || '–'),
        // One state from circuit, health check and traffic together: they never contradict each other here.
        el('td', { title: target.state_reason }, badge(target.state, 'state')),
        el('td', { class: 'small', dataset: { field: 'reason' } }, target.state_reason),
        el('td', { title: target.open_until ? `next probe ${time(target.open_until)}${target.open_reason ? ` (${target.open_reason})` : ''}` : undefined }, badge(target.circuit, 'circuit')),
        el('td', { class: 'num' }, percent(target.last_1m.success_rate)),
        el('td', { class: 'num' }, target.last_1m.requests),
        el('td', { class: 'num' }, `${ms(target.last_5m.p50_ms)} / ${ms(target.last_5m.p95_ms)}`),
        el('td', { class: 'num' }, ms(target.latency_ewma_ms)),
        el('td', { class: 'num' }, target.in_flight ?? '–'),
        el('td', { class: 'small', dataset: { field: 'headroom' } }, headroom(target.limits)),
        el('td', { class: 'mono small' }, target.last_error_code ? `${target.last_error_code} · ${since(target.last_error_at)}` : '–'),
      ),
    ),
    'no targets',
  );

  fillBody(
    document.getElementById('routes'),
    overview.routes.map((route) =>
      el(
        'tr',
        { dataset: { route: route.name } },
        el('td', { class: 'mono' }, route.name),
        el('td', {}, badge(route.status, 'status')),
        el('td', { class: 'num' }, route.last_5m.requests),
        el('td', { class: 'num' }, percent(route.last_5m.success_rate)),
        el('td', { class: 'num' }, ms(route.last_5m.p50_ms)),
        el('td', { class: 'num' }, ms(route.last_5m.p95_ms)),
        el('td', { class: 'num' }, ms(route.last_5m.p99_ms)),
        el('td', { class: 'num' }, ms(route.last_5m.ttft_p95_ms)),
        el('td', { class: 'small', dataset: { field: 'queue' } }, queueText(route.queue)),
      ),
    ),
    'no routes',
  );

  const incidents = document.getElementById('incidents');
  document.getElementById('incidents-section').hidden = overview.incidents.length === 0;
  incidents.replaceChildren(
    ...overview.incidents.map((incident) => {
      const serving = Object.entries(incident.serving_targets).map(([route, target]) => `${route} → ${target}`).join(', ');
      // Traffic is back: the incident only waits out its hold-down before it resolves.
      const isRecovering = incident.state === 'recovering';
      return el(
        'li',
        { class: `incident ${isRecovering ? 'recovering' : incident.severity}`, dataset: { key: incident.key, state: incident.state } },
        el('strong', {}, incident.title),
        el('span', { class: 'muted' }, ` since ${time(incident.started_at)}`),
        isRecovering ? el('div', { class: 'recovering-note' }, `Recovering: no failure since ${time(incident.last_seen_at)}; resolves after its hold-down`) : serving ? el('div', {}, `Now serving: ${serving}`) : null,
        !isRecovering && incident.error ? el('div', { class: 'mono small' }, incident.error) : null,
      );
    }),
  );
}

/**
 * Points from the first one with traffic, but never less than five minutes, so that a young
 * gateway's chart is not mostly empty; without the bucket still filling, which would show a dip.
 */
function recentPoints(points) {
  const complete = points.slice(0, -1);
  const first = complete.findIndex((point) => point.requests > 0);
  return first === -1 ? complete.slice(-30) : complete.slice(Math.min(first, Math.max(0, complete.length - 30)));
}

function renderCharts(timeline) {
  const points = recentPoints(timeline.points);
  const times = points.map((point) => point.t);
  const perSecond = timeline.step_ms / 1000;
  drawLineChart(document.getElementById('rate-chart'), {
    times,
    series: [
      { label: 'requests/s', color: '#5aa9ff', values: points.map((point) => point.requests / perSecond) },
      { label: 'errors/s', color: '#ff6b6b', values: points.map((point) => point.failures / perSecond) },
    ],
  });
  drawLineChart(document.getElementById('latency-chart'), {
    times,
    unit: 'ms',
    series: [
      { label: 'p50', color: '#7bd88f', values: points.map((point) => point.p50) },
      { label: 'p95', color: '#f0c36d', values: points.map((point) => point.p95) },
      { label: 'p99', color: '#ff8c5a', values: points.map((point) => point.p99) },
    ],
  });
}

function attemptChips(attempts) {
  return el(
    'span',
    { class: 'attempts' },
    attempts.map((attempt) =>
      el(
        'span',
        { class: `chip ${attempt.error_code ? 'failed' : 'ok'}${attempt.role ? ` ${attempt.role}` : ''}`, title: `${attempt.target}: ${attempt.status ?? '–'} ${attempt.error_code ?? ''} in ${ms(attempt.duration_ms)}` },
        `${attempt.provider}${attempt.role ? ` (${attempt.role})` : ''} ${attempt.error_code ?? attempt.status ?? ''}`,
      ),
    ),
  );
}

/** Why a request failed or was refused, in words, from its code and status. */
const reasons = {
  NO_TARGET_AVAILABLE: 'every target was skipped: circuits open or no capable target',
  ALL_TARGETS_FAILED: 'every target was tried and failed',
  INVALID_REQUEST: 'the request was invalid: refused before any upstream was called',
  UNAUTHORIZED: 'the client key was missing or wrong',
  CLIENT_CLOSED: 'the client went away before the answer ended',
};

function reasonOf(request) {
  if (request.status < 400) return null;
  const code = request.error_code ?? `HTTP ${request.status}`;
  const words = reasons[request.error_code] ?? (request.attempts.length === 0 ? 'refused before any upstream was called' : 'the last attempt failed');
  // The request's own message says exactly why (the path not served, the field at fault, the limit reached).
  return request.error_message ? `${code}: ${words} — ${request.error_message}` : `${code}: ${words}`;
}

let shownRequests = new Map();
let selectedRequest = null;

function renderDetail(request) {
  const panel = document.getElementById('request-detail');
  panel.hidden = request === undefined;
  if (!request) return;
  const reason = reasonOf(request);
  const attempts = request.attempts.map((attempt, index) =>
    el(
      'tr',
      { class: attempt.error_code ? 'alert' : undefined, dataset: { attempt: index } },
      el('td', { class: 'num' }, index + 1),
      el('td', { class: 'mono' }, attempt.target),
      el('td', {}, attempt.role ?? 'attempt'),
      el('td', { class: 'num' }, attempt.status ?? '–'),
      el('td', { class: 'mono' }, attempt.error_code ?? '–'),
      el('td', {}, attempt.kind ?? '–'),
      el('td', { class: 'num' }, ms(attempt.duration_ms)),
      el('td', { class: 'num' }, attempt.retry_after_ms === null ? '–' : ms(attempt.retry_after_ms)),
    ),
  );
  panel.replaceChildren(
    el('h2', {}, 'Request ', el('span', { class: 'mono' }, request.id)),
    el(
      'dl',
      { class: 'detail' },
      el('dt', {}, 'Time'), el('dd', {}, new Date(request.time).toISOString()),
      el('dt', {}, 'Route'), el('dd', { class: 'mono' }, request.route),
      el('dt', {}, 'Status'), el('dd', { dataset: { field: 'status' } }, request.status),
      el('dt', {}, 'Served by'), el('dd', { class: 'mono' }, request.target ?? '–'),
      el('dt', {}, 'Latency / TTFT'), el('dd', { dataset: { field: 'latency' } }, `${ms(request.latency_ms)} / ${ms(request.ttft_ms)}`),
      request.continuation ? el('dt', {}, 'Stream continued') : null,
      request.continuation ? el('dd', { class: 'mono', dataset: { field: 'continuation' } }, `${request.continuation.count}×: ${request.continuation.targets.join(' → ')}`) : null,
      reason ? el('dt', {}, 'Reason') : null, reason ? el('dd', { class: 'reason', dataset: { field: 'reason' } }, reason) : null,
    ),
    request.attempts.length > 0
      ? el('table', { id: 'attempts' }, el('thead', {}, el('tr', {}, ['#', 'Target', 'Role', 'Status', 'Error', 'Kind', 'Duration', 'Retry-After'].map((name) => el('th', {}, name)))), el('tbody', {}, attempts))
      : el('p', { class: 'muted', dataset: { field: 'no-attempts' } }, 'No upstream was called.'),
  );
}

// The rows are rebuilt only when the requests changed: every circuit or health event refreshes
// the page, and rows replaced under the pointer would swallow a click on one of them.
let shownRecentText;

function renderRecent(recent) {
  shownRequests = new Map(recent.data.map((request) => [request.id, request]));
  if (selectedRequest) renderDetail(shownRequests.get(selectedRequest) ?? selectedDetail);
  const recentText = JSON.stringify(recent.data);
  if (recentText === shownRecentText) return;
  shownRecentText = recentText;
  fillBody(
    document.getElementById('requests'),
    recent.data.map((request) =>
      el(
        'tr',
        { dataset: { request: request.id }, class: `${request.status >= 400 ? 'alert ' : ''}clickable${request.id === selectedRequest ? ' selected' : ''}`, title: reasonOf(request) ?? 'show its attempts' },
        el('td', { class: 'num', title: request.id }, time(request.time)),
        el('td', { class: 'mono' }, request.route),
        el('td', { class: 'num', dataset: { field: 'status' } }, request.status, request.error_code ? el('span', { class: 'tag mono', dataset: { field: 'error-code' } }, request.error_code) : null),
        el('td', { class: 'mono' }, request.target ?? '–', request.failover ? el('span', { class: 'tag' }, 'failover') : null, request.degraded ? el('span', { class: 'tag' }, 'degraded') : null, request.continuation ? el('span', { class: 'tag', title: request.continuation.targets.join(' → ') }, `continued ×${request.continuation.count}`) : null),
        el('td', {}, attemptChips(request.attempts)),
        el('td', { class: 'num' }, ms(request.latency_ms)),
        el('td', { class: 'num' }, ms(request.ttft_ms)),
        el('td', { class: 'num' }, request.usage ? `${request.usage.input_tokens} / ${request.usage.output_tokens}` : '–'),
        el('td', { class: 'num' }, usd(request.cost_usd)),
      ),
    ),
    'no requests yet',
  );
}

let selectedDetail;

document.getElementById('requests').addEventListener('click', (event) => {
  const row = event.target instanceof Element ? event.target.closest('tr[data-request]') : null;
  if (!row) return;
  selectedRequest = row.dataset.request;
  selectedDetail = shownRequests.get(selectedRequest);
  for (const other of row.parentElement.children) other.classList.toggle('selected', other === row);
  renderDetail(selectedDetail);
});

let trafficRange = '5m';

function renderTraffic(traffic) {
  const chart = document.getElementById('traffic-chart');
  chart.dataset.range = traffic.range;
  drawTrafficChart(chart, traffic);
  const legend = document.getElementById('traffic-legend');
  legend.replaceChildren(
    ...traffic.targets.map((target, index) => el('span', {}, el('i', { class: 'swatch', style: undefined, dataset: { color: targetColor(index) } }), target)),
    el('span', {}, el('i', { class: 'swatch failed' }), 'failed'),
    el('span', {}, el('i', { class: 'swatch incident' }), 'incident'),
    el('span', {}, '┆ circuit opened'),
  );
  // Inline styles are barred by the page's CSP: the colour goes through the CSSOM instead.
  for (const swatch of legend.querySelectorAll('i[data-color]')) swatch.style.background = swatch.dataset.color;
  document.getElementById('traffic-source').textContent = traffic.source === 'request_log' ? 'from the request log' : 'from memory (the request log is off)';
}

for (const button of document.querySelectorAll('#ranges button[data-range]')) {
  button.addEventListener('click', () => {
    trafficRange = button.dataset.range;
    for (const other of document.querySelectorAll('#ranges button')) other.classList.toggle('active', other === button);
    void refresh();
  });
}

function costRows(byName) {
  return Object.entries(byName)
    .sort(([, a], [, b]) => b.success_usd - a.success_usd)
    .map(([name, cost]) =>
      el(
        'tr',
        {},
        el('td', { class: 'mono' }, name),
        el('td', { class: 'num' }, cost.successes),
        el('td', { class: 'num' }, usd(cost.success_usd)),
        el('td', { class: 'num' }, usd(cost.per_success_usd)),
        el('td', { class: 'num' }, `${usd(cost.failed_usd)} / ${usd(cost.hedge_usd)} / ${usd(cost.mirror_usd)}`),
      ),
    );
}

function renderCosts(costs) {
  fillBody(document.getElementById('cost-routes'), costRows(costs.by_route), 'no spend yet');
  fillBody(document.getElementById('cost-keys'), costRows(costs.by_key), 'no client keys seen');
}

function addFeedEvent(event) {
  const feed = document.getElementById('feed');
  if (feed.querySelector(`[data-id="${event.id}"]`)) return;
  const item = el(
    'li',
    { class: `event ${event.severity}`, dataset: { id: event.id, type: event.type, target: event.target ?? '' } },
    el('time', {}, time(new Date(event.at).toISOString())),
    el('span', { class: 'kind' }, event.type.replace('_', ' ')),
    el('span', {}, event.message),
  );
  feed.prepend(item);
  while (feed.children.length > feedLimit) feed.lastElementChild.remove();
}

function setBanner(text) {
  const banner = document.getElementById('banner');
  banner.hidden = text === null;
  banner.textContent = text ?? '';
}

let refreshTimer;
let lastCostsAt = 0;

async function refresh() {
  clearTimeout(refreshTimer);
  try {
    const [overview, timeline, recent] = await Promise.all([getJson('/admin/api/overview'), getJson('/admin/api/timeseries?scope=all&window=15m'), getJson('/admin/api/recent?limit=15')]);
    renderOverview(overview);
    renderCharts(timeline);
    renderRecent(recent);
    try {
      renderTraffic(await getJson(`/admin/api/traffic?range=${trafficRange}`));
      document.getElementById('traffic-error').textContent = '';
    } catch (error) {
      document.getElementById('traffic-error').textContent = error.message;
    }
    if (Date.now() - lastCostsAt > costRefreshMs) {
      lastCostsAt = Date.now();
      renderCosts(await getJson('/admin/api/costs?window=24h'));
    }
    setBanner(null);
  } catch (error) {
    setBanner(`Cannot reach the gateway: ${error.message}. Retrying…`);
  } finally {
    refreshTimer = setTimeout(refresh, refreshMs);
  }
}

function listen() {
  const live = document.getElementById('live');
  const source = new EventSource('/admin/api/events');
  source.addEventListener('open', () => {
    live.textContent = 'live';
    live.className = 'live on';
  });
  source.addEventListener('error', () => {
    live.textContent = 'reconnecting…';
    live.className = 'live off';
  });
  source.addEventListener('feed', (message) => {
    const event = JSON.parse(message.data);
    addFeedEvent(event);
    // A circuit or an incident changed: show it now rather than at the next poll.
    if (event.type === 'circuit' || event.type === 'incident' || event.type === 'health') void refresh();
  });
}

window.addEventListener('resize', () => void refresh());
listen();
void refresh();

/** A target's rate limits as "requests 3/10 · tokens 4000/16000 (learned)": what is left of each. */
function headroom(limits) {
  if (!limits || limits.length === 0) return '–';
  return limits.map((limit) => `${limit.kind} ${Math.floor(limit.remaining)}${limit.limit === null ? '' : `/${Math.floor(limit.limit)}`}${limit.source === 'learned' ? ' (learned)' : ''}`).join(' · ');
}

/** A route's queue as "4 waiting (high 1, normal 2, low 1) · wait p50 120 ms, p95 900 ms". */
function queueText(queue) {
  if (!queue) return '–';
  const parts = [`${queue.waiting} waiting`];
  const { high, normal, low } = queue.by_priority;
  if (queue.waiting > 0) parts[0] += ` (high ${high}, normal ${normal}, low ${low}${queue.recovery ? `, recovery ${queue.recovery}` : ''})`;
  if (queue.recent_waits > 0) parts.push(`wait p50 ${ms(queue.wait_p50_ms)}, p95 ${ms(queue.wait_p95_ms)}`);
  return parts.join(' · ');
}
