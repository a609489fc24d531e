import { describe, it } from 'vitest';

/**
 * `describe` for suites that need a real service binary (Redis, PostgreSQL, HAProxy): skipped,
 * printing why, when it is not installed — except in CI (`CI` set), where a missing binary is a
 * failure, since `.ci/run` installs it.
 */
export function describeWithService(name: string, body: () => void, service: { isInstalled: boolean; missingReason: string }): void {
  if (service.isInstalled) {
    describe(name, body);
  } else if (process.env.CI) {
    describe(name, () => {
      it('needs its service installed', () => {
        throw new Error(`${service.missingReason}; CI must install it`);
      });
    });
  } else {
    console.warn(`skipping "${name}": ${service.missingReason}`);
    describe.skip(`${name} — skipped: ${service.missingReason}`, body);
  }
}
