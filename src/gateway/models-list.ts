/**
 * The routes as a models list, in the shape the client speaks: Anthropic's (it sends an
 * `anthropic-version` header) or OpenAI's. Shared by the HTTP server and the in-process fetch.
 */
export function modelsListBody(names: readonly string[], startedAtSeconds: number, isAnthropicClient: boolean): string {
  if (isAnthropicClient) {
    const createdAt = new Date(startedAtSeconds * 1000).toISOString();
    // Every field Anthropic's SDK types require (strict SDKs throw on a missing `lifecycle`): a route is active; what it
    // cannot say for all its targets (line, windows, retirement) is null.
    const data = names.map((id) => ({
      type: 'model',
      id,
      display_name: id,
      created_at: createdAt,
      lifecycle: 'active',
      capabilities: null,
      deprecated_at: null,
      retires_at: null,
      line: null,
      max_input_tokens: null,
      max_tokens: null,
    }));
    return JSON.stringify({ data, has_more: false, first_id: names[0] ?? null, last_id: names.at(-1) ?? null });
  }
  return JSON.stringify({ object: 'list', data: names.map((id) => ({ id, object: 'model', created: startedAtSeconds, owned_by: 'detour' })) });
}
