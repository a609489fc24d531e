/** A problem found while reading the config, with the path it concerns. */
export interface ConfigProblem {
  path: (string | number)[];
  message: string;
}

const reference = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces `${VAR}` (and `${VAR:-fallback}`) in every string of the parsed YAML with the
 * environment's value. A missing variable is a problem at that path, never an empty string.
 */
export function interpolateEnv(value: unknown, env: Readonly<Record<string, string | undefined>>, problems: ConfigProblem[], path: (string | number)[] = []): unknown {
  if (typeof value === 'string') {
    return value.replace(reference, (_match, name: string, fallback: string | undefined) => {
      const found = env[name];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      problems.push({ path, message: `environment variable ${name} is not set` });
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((item, index) => interpolateEnv(item, env, problems, [...path, index]));
  if (typeof value === 'object' && value !== null) {
    const result: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) result[key] = interpolateEnv(item, env, problems, [...path, key]);
    return result;
  }
  return value;
}
