/**
 * What OpenAI's model families take, for requests translated from another format (a client of
 * one format cannot know the target's quirks). Names are matched after a vendor prefix such as
 * OpenRouter's `openai/`; a model outside these families (another vendor's, an Azure deployment
 * name) is sent the fields as they are.
 */
const reasoningFamily = /^(o\d|gpt-5)/;
const chatOnlyFamily = /^(gpt-4|gpt-3\.5|chatgpt-)/;

function bareName(model: string): string {
  const slash = model.lastIndexOf('/');
  return slash === -1 ? model : model.slice(slash + 1);
}

/** o-series and GPT-5 models: they refuse `max_tokens` and want `max_completion_tokens` (docs/wire-formats.md). */
export function isReasoningModel(model: string): boolean {
  return reasoningFamily.test(bareName(model));
}

/** GPT-4 and older chat models: they refuse `reasoning_effort`, which a translated Anthropic `thinking` becomes. */
export function isChatOnlyModel(model: string): boolean {
  return chatOnlyFamily.test(bareName(model));
}
