/**
 * A value that validates against a JSON schema, so that structured-output and tool calls can be
 * tested end to end against the simulator: the first `enum`/`const`, every required (and every
 * declared) property, `minItems` items, numbers inside their bounds, `$ref`s to `$defs` or
 * `definitions` followed. Bounded in depth, as the schema is the client's.
 */
export function exampleFor(schema: unknown, root: unknown = schema, depth = 0, name = 'value'): unknown {
  if (!isObject(schema) || depth > 24) return null;
  if (typeof schema.$ref === 'string') return exampleFor(resolveRef(schema.$ref, root), root, depth + 1, name);
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  for (const key of ['anyOf', 'oneOf'] as const) {
    const options = schema[key];
    if (Array.isArray(options) && options.length > 0) {
      const chosen = options.find((option) => !(isObject(option) && option.type === 'null')) ?? options[0];
      return exampleFor(chosen, root, depth + 1, name);
    }
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length > 0) {
    const merged: Record<string, unknown> = {};
    for (const part of schema.allOf) {
      const value = exampleFor(part, root, depth + 1, name);
      if (isObject(value)) Object.assign(merged, value);
    }
    return merged;
  }
  const type = Array.isArray(schema.type) ? (schema.type.find((entry) => entry !== 'null') ?? 'null') : schema.type;
  switch (type) {
    case 'object':
      return objectExample(schema, root, depth);
    case 'array': {
      const count = typeof schema.minItems === 'number' ? Math.min(schema.minItems, 8) : 1;
      return Array.from({ length: Math.max(count, 1) }, () => exampleFor(schema.items, root, depth + 1, name));
    }
    case 'integer':
    case 'number':
      return numberExample(schema, type === 'integer');
    case 'boolean':
      return true;
    case 'null':
      return null;
    case 'string':
      return stringExample(schema, name);
    default:
      return isObject(schema.properties) ? objectExample(schema, root, depth) : stringExample(schema, name);
  }
}

function objectExample(schema: Record<string, unknown>, root: unknown, depth: number): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  const properties = isObject(schema.properties) ? schema.properties : {};
  for (const [key, property] of Object.entries(properties)) result[key] = exampleFor(property, root, depth + 1, key);
  return result;
}

function numberExample(schema: Record<string, unknown>, isInteger: boolean): number {
  const minimum = typeof schema.minimum === 'number' ? schema.minimum : typeof schema.exclusiveMinimum === 'number' ? schema.exclusiveMinimum + 1 : undefined;
  const maximum = typeof schema.maximum === 'number' ? schema.maximum : typeof schema.exclusiveMaximum === 'number' ? schema.exclusiveMaximum - 1 : undefined;
  let value = 42;
  if (minimum !== undefined && value < minimum) value = minimum;
  if (maximum !== undefined && value > maximum) value = maximum;
  return isInteger ? Math.ceil(value) : value;
}

function stringExample(schema: Record<string, unknown>, name: string): string {
  if (schema.format === 'date-time') return '2025-01-01T00:00:00Z';
  if (schema.format === 'date') return '2025-01-01';
  if (schema.format === 'email') return 'user@example.com';
  if (schema.format === 'uri' || schema.format === 'url') return 'https://example.com';
  if (schema.format === 'uuid') return '00000000-0000-4000-8000-000000000000';
  let text = name === 'city' || name === 'location' ? 'Paris' : `example ${name}`;
  if (typeof schema.maxLength === 'number' && text.length > schema.maxLength) text = text.slice(0, schema.maxLength);
  if (typeof schema.minLength === 'number' && text.length < schema.minLength) text = text.padEnd(schema.minLength, 'x');
  return text;
}

function resolveRef(ref: string, root: unknown): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = root;
  for (const part of ref.slice(2).split('/')) {
    if (!isObject(node)) return undefined;
    node = node[part.replaceAll('~1', '/').replaceAll('~0', '~')];
  }
  return node;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
