import { DetourError } from '../../core/errors.js';
import type { Target } from '../../core/settings.js';

/**
 * A request this target cannot express. It is the target's limit, not the client's fault:
 * the engine skips to a target that can, and names the feature if none could.
 */
export function unsupportedFeature(target: Target, feature: string): DetourError {
  return new DetourError({
    kind: 'failover',
    code: 'UNSUPPORTED_FEATURE',
    // The status Detour answers with when no target at all could express the request.
    status: 400,
    target: target.id,
    message: `${target.id} (Gemini) cannot express ${feature}`,
  });
}
