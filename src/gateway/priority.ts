import { invalidRequest } from '../core/errors.js';
import { parsePriority, type Priority } from '../core/wait-queue.js';
import { headerOf, type GatewayRequest } from './http.js';

/**
 * The request's `x-detour-priority` (`high`, `normal`, `low`): the order it leaves its route's
 * queue in when every target is at its limit. Absent: undefined (normal). Anything else is the
 * client's mistake, refused with a 400 in its format before the body is read.
 */
export function priorityOf(request: GatewayRequest): Priority | undefined {
  const value = headerOf(request, 'x-detour-priority');
  if (value === undefined) return undefined;
  const priority = parsePriority(value);
  if (priority) return priority;
  const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
  throw invalidRequest(`The x-detour-priority header must be high, normal or low (got ${JSON.stringify(shown)}).`, 'x-detour-priority');
}
