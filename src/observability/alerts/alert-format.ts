import type { AlertMessage, Incident } from './incident.js';

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${seconds % 60}s`;
  const hours = Math.floor(minutes / 60);
  return `${hours}h ${minutes % 60}m`;
}

function serving(incident: Incident): string | undefined {
  const entries = Object.entries(incident.servingTargets);
  if (entries.length === 0) return undefined;
  return entries.map(([route, target]) => `route ${route} is served by ${target}`).join('; ');
}

/** The generic webhook's JSON body: stable snake_case fields, times in ISO 8601. */
export function webhookPayload(message: AlertMessage): Record<string, unknown> {
  const incident = message.incident;
  return {
    source: 'detour',
    state: message.state,
    type: incident.type,
    severity: incident.severity,
    key: incident.key,
    title: incident.title,
    summary: plainSummary(message),
    route: incident.route ?? null,
    target: incident.target ?? null,
    region: incident.region ?? null,
    serving_targets: incident.servingTargets,
    error: incident.error ?? null,
    started_at: iso(incident.startedAt),
    at: iso(message.at),
    duration_ms: message.state === 'resolved' ? message.at - incident.startedAt : null,
    affects: incident.affects,
    notes: incident.notes.map((note) => ({ at: iso(note.at), text: note.text })),
  };
}

/** One readable paragraph: what failed, who serves now, the error, since when. */
export function plainSummary(message: AlertMessage): string {
  const incident = message.incident;
  if (message.state === 'resolved') {
    return `Resolved: ${incident.title.replace(/ is failing$/, ' has recovered')} after ${formatDuration(message.at - incident.startedAt)} (since ${iso(incident.startedAt)}).`;
  }
  const parts = [`${incident.title}.`];
  const servedBy = serving(incident);
  if (servedBy) parts.push(`Now ${servedBy}.`);
  else if (incident.type === 'target_down' || incident.type === 'region_down') parts.push('No other target has served its traffic yet.');
  if (incident.error) parts.push(`Error: ${incident.error}.`);
  parts.push(`Since ${iso(incident.startedAt)}.`);
  return parts.join(' ');
}

function code(text: string): string {
  return `\`${text.replaceAll('`', "'")}\``;
}

/** Slack incoming-webhook body: mrkdwn text a person reads at a glance. */
export function slackPayload(message: AlertMessage): { text: string } {
  const incident = message.incident;
  if (message.state === 'resolved') {
    const what = incident.target !== undefined ? `${code(incident.target)} has recovered` : incident.region !== undefined ? `region ${code(incident.region)} has recovered` : incident.title;
    return { text: `:white_check_mark: *Resolved* — ${what}. It lasted ${formatDuration(message.at - incident.startedAt)} (since ${iso(incident.startedAt)}).` };
  }
  const icon = incident.severity === 'critical' ? ':rotating_light:' : ':warning:';
  const lines = [`${icon} *${incident.title.replace(incident.target ?? '\u0000', code(incident.target ?? ''))}*`];
  const servedBy = Object.entries(incident.servingTargets);
  if (servedBy.length > 0) lines.push(`*Now serving:* ${servedBy.map(([route, target]) => `route ${code(route)} → ${code(target)}`).join(', ')}`);
  else if (incident.type === 'target_down' || incident.type === 'region_down') lines.push('*Now serving:* no other target has answered yet');
  if (incident.error) lines.push(`*Error:* ${code(incident.error)}`);
  lines.push(`*Since:* ${iso(incident.startedAt)}`);
  return { text: lines.join('\n') };
}
