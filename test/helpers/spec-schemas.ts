import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';

/**
 * The official wire schemas in `../shared/spec/` beside a checkout (see its README): OpenAI's
 * OpenAPI components for chat completions, and a JSON Schema of Anthropic's Message, stream
 * events and errors written from `@anthropic-ai/sdk`'s types. Like the captured fixtures, they
 * live outside the repository: present, every answer is validated against them; absent, that
 * layer is skipped with its reason; on CI (`CI` set) they must be there unless
 * `DETOUR_NO_SHARED` says this run goes without them.
 */

const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));
export const specDir = join(repositoryRoot, '..', 'shared', 'spec');

export type SpecStatus = { state: 'present'; specs: Specs } | { state: 'skipped'; reason: string } | { state: 'required-missing'; reason: string };

function isSet(value: string | undefined): boolean {
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

const files = ['openai-chat.json', 'anthropic-messages.json'];

/** Whether the schema layer runs, is skipped (and why), or is missing where it must not be. */
export function specStatus(env: Record<string, string | undefined> = process.env, dir: string = specDir): SpecStatus {
  const exists = existsSync(dir) && statSync(dir).isDirectory() && files.every((file) => existsSync(join(dir, file)));
  if (isSet(env.DETOUR_NO_SHARED)) {
    return { state: 'skipped', reason: `DETOUR_NO_SHARED is set: the wire schemas${exists ? ` in ${dir}` : ''} are not used` };
  }
  if (exists) return { state: 'present', specs: loadSpecs(dir) };
  if (isSet(env.CI)) {
    return { state: 'required-missing', reason: `CI is set, but the wire schemas are missing: ${dir} lacks ${files.join(' and ')}. Set DETOUR_NO_SHARED=1 for a run meant to go without them.` };
  }
  return { state: 'skipped', reason: `no wire schemas at ${dir} (they are optional outside CI)` };
}

/** What validating one value found: problems fail a test; notes are fields the SDKs read as absent (see `x-added-later`). */
export interface SpecVerdict {
  problems: string[];
  notes: string[];
}

export type SpecCheck = (value: unknown) => SpecVerdict;

export interface Specs {
  openai: { response: SpecCheck; chunk: SpecCheck; error: SpecCheck; models: SpecCheck };
  anthropic: { message: SpecCheck; streamEvent: SpecCheck; error: SpecCheck; models: SpecCheck };
}

type Json = unknown;

/** OpenAPI's `nullable: true` as JSON Schema's "or null" (the README asks for this reading). */
function withNullable(node: Json): Json {
  if (Array.isArray(node)) return node.map(withNullable);
  if (typeof node !== 'object' || node === null) return node;
  const copy: Record<string, Json> = {};
  for (const [key, value] of Object.entries(node)) {
    // OpenAPI keywords ajv does not know; `discriminator` only narrows a oneOf that already holds.
    if (key === 'discriminator' || key === 'x-stainless-const' || key === 'deprecated') continue;
    copy[key] = withNullable(value);
  }
  if (copy.nullable === true) {
    delete copy.nullable;
    const description = copy.description;
    delete copy.description;
    return { anyOf: [copy, { type: 'null' }], ...(description === undefined ? {} : { description }) };
  }
  delete copy.nullable;
  return copy;
}

/**
 * The Anthropic schema in two readings: strict (every `required` field) and lenient (the fields
 * listed under `x-added-later` may be missing: the Go and Java SDKs read them as absent).
 */
function withoutAddedLater(node: Json): Json {
  if (Array.isArray(node)) return node.map(withoutAddedLater);
  if (typeof node !== 'object' || node === null) return node;
  const copy: Record<string, Json> = {};
  for (const [key, value] of Object.entries(node)) copy[key] = withoutAddedLater(value);
  const later = copy['x-added-later'];
  if (Array.isArray(later) && Array.isArray(copy.required)) copy.required = copy.required.filter((name) => !later.includes(name));
  return copy;
}

function newAjv(): Ajv2020 {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  ajv.addFormat('unixtime', { type: 'number', validate: (value: number) => Number.isInteger(value) && value >= 0 });
  ajv.addFormat('uri', (value: string) => URL.canParse(value));
  ajv.addFormat('date', (value: string) => /^\d{4}-\d{2}-\d{2}$/.test(value));
  ajv.addFormat('date-time', (value: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value) && !Number.isNaN(Date.parse(value)));
  return ajv;
}

function describeErrors(errors: readonly ErrorObject[] | null | undefined): string[] {
  // ajv reports each failed branch of an anyOf/if: the leaves say what is wrong.
  return (errors ?? []).filter((error) => error.keyword !== 'anyOf' && error.keyword !== 'if').map((error) => `${error.instancePath || '/'} ${error.message ?? error.keyword}${error.keyword === 'const' || error.keyword === 'enum' ? ` ${JSON.stringify(error.params)}` : ''}`);
}

function check(validate: ValidateFunction, strict?: ValidateFunction): SpecCheck {
  return (value) => {
    const isValid = validate(value);
    const problems = isValid ? [] : describeErrors(validate.errors);
    const notes = isValid && strict && !strict(value) ? describeErrors(strict.errors) : [];
    return { problems: [...new Set(problems)], notes: [...new Set(notes)] };
  };
}

function loadSpecs(dir: string): Specs {
  const openAiDocument = withNullable(JSON.parse(readFileSync(join(dir, 'openai-chat.json'), 'utf8'))) as { components: { schemas: Record<string, Json> } };
  const openAi = newAjv();
  openAi.addSchema({ $id: 'openai', components: openAiDocument.components });
  const openAiCheck = (name: string): SpecCheck => check(openAi.compile({ $ref: `openai#/components/schemas/${name}` }));

  const anthropicDocument = JSON.parse(readFileSync(join(dir, 'anthropic-messages.json'), 'utf8')) as { $defs: Record<string, Json> };
  const lenient = newAjv();
  lenient.addSchema({ $id: 'anthropic', $defs: (withoutAddedLater(anthropicDocument) as { $defs: Json }).$defs });
  const strict = newAjv();
  strict.addSchema({ $id: 'anthropic', $defs: anthropicDocument.$defs });
  const anthropicCheck = (name: string): SpecCheck => check(lenient.compile({ $ref: `anthropic#/$defs/${name}` }), strict.compile({ $ref: `anthropic#/$defs/${name}` }));

  return {
    openai: { response: openAiCheck('CreateChatCompletionResponse'), chunk: openAiCheck('CreateChatCompletionStreamResponse'), error: openAiCheck('ErrorResponse'), models: openAiCheck('ListModelsResponse') },
    anthropic: { message: anthropicCheck('Message'), streamEvent: anthropicCheck('RawMessageStreamEvent'), error: anthropicCheck('ErrorResponse'), models: anthropicCheck('ModelInfosPage') },
  };
}
