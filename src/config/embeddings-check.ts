import { embeddingsAdapters } from '../providers/registry.js';
import type { ConfigProblem } from './interpolate.js';

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** The model behind a target, as comparable across providers: `embedding_model` (an Azure deployment's), without Gemini's `models/`. */
function modelOf(target: unknown): unknown {
  const record = asRecord(target);
  const model = typeof record.embedding_model === 'string' ? record.embedding_model : record.model;
  return typeof model === 'string' ? model.replace(/^models\//, '') : model;
}

/** What makes two embeddings routes give the same vectors: one model at one size. */
function vectorSpace(route: unknown): { model: unknown; dimensions: unknown } | undefined {
  const targets = asRecord(route).targets;
  if (!Array.isArray(targets) || targets.length === 0) return undefined;
  return { model: modelOf(targets[0]), dimensions: asRecord(targets[0]).dimensions };
}

/**
 * Routes of `kind: embeddings` fail over only between targets that produce the same vectors:
 * one model (from another provider, key or region) at one size, on providers that serve
 * embeddings. Mixing them would hand a client vectors from two spaces under one name, which no
 * error would ever reveal; so would degrading to another model, or from chat to embeddings.
 */
export function checkRouteKinds(models: Record<string, unknown>, providers: Record<string, unknown>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const [routeName, route] of Object.entries(models)) {
    const record = asRecord(route);
    const targets = Array.isArray(record.targets) ? (record.targets as unknown[]) : [];
    const degradeTo = typeof record.degrade_to === 'string' ? models[record.degrade_to] : undefined;
    const degradeKind = degradeTo === undefined ? undefined : (asRecord(degradeTo).kind ?? 'chat');
    if (record.kind !== 'embeddings') {
      if (degradeKind === 'embeddings') problems.push({ path: ['models', routeName, 'degrade_to'], message: `a chat route cannot degrade to the embeddings route "${String(record.degrade_to)}"` });
      targets.forEach((target, index) => {
        for (const field of ['dimensions', 'embedding_model']) {
          if (asRecord(target)[field] !== undefined) problems.push({ path: ['models', routeName, 'targets', index, field], message: `${field} is for routes of kind: embeddings` });
        }
      });
      continue;
    }
    const first = vectorSpace(route);
    targets.forEach((target, index) => {
      const type = asRecord(providers[String(asRecord(target).provider)]).type;
      if (typeof type === 'string' && !(type in embeddingsAdapters)) {
        problems.push({ path: ['models', routeName, 'targets', index, 'provider'], message: `providers of type ${type} serve no embeddings (embeddings come from: ${Object.keys(embeddingsAdapters).join(', ')})` });
      }
      if (index === 0 || !first) return;
      const model = modelOf(target);
      if (typeof model === 'string' && model !== first.model) {
        problems.push({
          path: ['models', routeName, 'targets', index, 'model'],
          message: `an embeddings route cannot mix models ("${String(first.model)}" and "${model}"): their vectors are not comparable; give an Azure deployment's model as embedding_model`,
        });
      }
      const size = asRecord(target).dimensions;
      if (size !== first.dimensions) {
        problems.push({ path: ['models', routeName, 'targets', index, 'dimensions'], message: `an embeddings route cannot mix dimensions (${String(first.dimensions ?? 'default')} and ${String(size ?? 'default')})` });
      }
    });
    if (record.mirror !== undefined) problems.push({ path: ['models', routeName, 'mirror'], message: 'an embeddings route has no mirror (a mirror compares chat answers)' });
    if (degradeTo !== undefined) {
      const other = vectorSpace(degradeTo);
      if (degradeKind !== 'embeddings' || !first || !other || other.model !== first.model || other.dimensions !== first.dimensions) {
        problems.push({ path: ['models', routeName, 'degrade_to'], message: `an embeddings route degrades only to an embeddings route of the same model and dimensions ("${String(record.degrade_to)}" is not)` });
      }
    }
  }
  return problems;
}
