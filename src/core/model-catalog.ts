/**
 * Built-in knowledge about common models: prices and capabilities. The config can override or
 * extend every entry; these are defaults so that cost and capability routing work out of the box.
 * Prices are USD per million tokens, from the providers' public price pages (standard tier,
 * 2025); check them against your contract before trusting a bill to them.
 */
export interface ModelPrice {
  /** USD per million input tokens. */
  inputPerMillion: number;
  /** USD per million output tokens. */
  outputPerMillion: number;
  /** USD per million cached input tokens (cache reads); defaults to the input price. */
  cachedInputPerMillion?: number;
}

export interface ModelCapabilities {
  vision: boolean;
  tools: boolean;
  json: boolean;
  /** Input tokens the model accepts. */
  contextWindow: number;
}

export interface ModelInfo {
  price: ModelPrice;
  capabilities: ModelCapabilities;
}

const full = (contextWindow: number): ModelCapabilities => ({ vision: true, tools: true, json: true, contextWindow });
const embedding = (contextWindow: number): ModelCapabilities => ({ vision: false, tools: false, json: false, contextWindow });
const price = (inputPerMillion: number, outputPerMillion: number, cachedInputPerMillion?: number): ModelPrice => ({ inputPerMillion, outputPerMillion, cachedInputPerMillion });

/** Keyed by model-name prefix; the longest matching prefix wins (`gpt-4o-mini-2024-07-18` → `gpt-4o-mini`). */
export const builtInModels: Readonly<Record<string, ModelInfo>> = {
  'gpt-5': { price: price(1.25, 10, 0.125), capabilities: full(400_000) },
  'gpt-5-mini': { price: price(0.25, 2, 0.025), capabilities: full(400_000) },
  'gpt-5-nano': { price: price(0.05, 0.4, 0.005), capabilities: full(400_000) },
  'gpt-4.1': { price: price(2, 8, 0.5), capabilities: full(1_047_576) },
  'gpt-4.1-mini': { price: price(0.4, 1.6, 0.1), capabilities: full(1_047_576) },
  'gpt-4.1-nano': { price: price(0.1, 0.4, 0.025), capabilities: full(1_047_576) },
  'gpt-4o': { price: price(2.5, 10, 1.25), capabilities: full(128_000) },
  'gpt-4o-mini': { price: price(0.15, 0.6, 0.075), capabilities: full(128_000) },
  'gpt-3.5-turbo': { price: price(0.5, 1.5), capabilities: { vision: false, tools: true, json: true, contextWindow: 16_385 } },
  o3: { price: price(2, 8, 0.5), capabilities: full(200_000) },
  'o3-mini': { price: price(1.1, 4.4, 0.55), capabilities: { vision: false, tools: true, json: true, contextWindow: 200_000 } },
  'o4-mini': { price: price(1.1, 4.4, 0.275), capabilities: full(200_000) },
  'claude-opus-4': { price: price(15, 75, 1.5), capabilities: full(200_000) },
  'claude-sonnet-4': { price: price(3, 15, 0.3), capabilities: full(200_000) },
  'claude-3-7-sonnet': { price: price(3, 15, 0.3), capabilities: full(200_000) },
  'claude-3-5-sonnet': { price: price(3, 15, 0.3), capabilities: full(200_000) },
  'claude-haiku-4': { price: price(1, 5, 0.1), capabilities: full(200_000) },
  'claude-3-5-haiku': { price: price(0.8, 4, 0.08), capabilities: full(200_000) },
  'claude-3-haiku': { price: price(0.25, 1.25, 0.03), capabilities: full(200_000) },
  'gemini-2.5-pro': { price: price(1.25, 10, 0.31), capabilities: full(1_048_576) },
  'gemini-2.5-flash': { price: price(0.3, 2.5, 0.075), capabilities: full(1_048_576) },
  'gemini-2.5-flash-lite': { price: price(0.1, 0.4, 0.025), capabilities: full(1_048_576) },
  'gemini-2.0-flash': { price: price(0.1, 0.4, 0.025), capabilities: full(1_048_576) },
  'gemini-1.5-pro': { price: price(1.25, 5, 0.3125), capabilities: full(2_097_152) },
  'gemini-1.5-flash': { price: price(0.075, 0.3, 0.01875), capabilities: full(1_048_576) },
  // Embedding models: input tokens only (they write no tokens); the window is one input's.
  'text-embedding-3-small': { price: price(0.02, 0), capabilities: embedding(8191) },
  'text-embedding-3-large': { price: price(0.13, 0), capabilities: embedding(8191) },
  'text-embedding-ada-002': { price: price(0.1, 0), capabilities: embedding(8191) },
  'gemini-embedding-001': { price: price(0.15, 0), capabilities: embedding(2048) },
};

/** A catalog: the built-in entries overlaid with the config's. */
export class ModelCatalog {
  private readonly entries: Map<string, ModelInfo>;
  private readonly prefixes: string[];
  private readonly cache = new Map<string, ModelInfo | undefined>();

  constructor(overrides: Readonly<Record<string, Partial<{ price: Partial<ModelPrice>; capabilities: Partial<ModelCapabilities> }>>> = {}) {
    this.entries = new Map(Object.entries(builtInModels));
    for (const [model, override] of Object.entries(overrides)) {
      const base = this.entries.get(model) ?? this.lookup(model);
      this.entries.set(model, {
        price: { ...(base?.price ?? price(0, 0)), ...override.price },
        capabilities: { ...(base?.capabilities ?? full(128_000)), ...override.capabilities },
      });
    }
    // Longest first, so `gpt-4o-mini` wins over `gpt-4o` for `gpt-4o-mini-2024-07-18`.
    this.prefixes = [...this.entries.keys()].sort((a, b) => b.length - a.length);
    this.cache.clear();
  }

  /** The entry for a model name (exact, then longest prefix, ignoring a `models/` or vendor prefix). */
  lookup(model: string): ModelInfo | undefined {
    if (this.cache.has(model)) return this.cache.get(model);
    const name = model.replace(/^models\//, '').replace(/^[a-z-]+\//, '');
    let found = this.entries?.get(name);
    if (!found && this.prefixes) {
      const prefix = this.prefixes.find((candidate) => name.startsWith(candidate));
      found = prefix === undefined ? undefined : this.entries.get(prefix);
    }
    if (this.prefixes) this.cache.set(model, found);
    return found;
  }

  /** USD for one call's usage; undefined when the model's price is unknown. */
  cost(model: string, usage: { promptTokens: number; completionTokens: number; cachedTokens?: number }): number | undefined {
    const info = this.lookup(model);
    if (!info) return undefined;
    const cached = Math.min(usage.cachedTokens ?? 0, usage.promptTokens);
    const cachedPrice = info.price.cachedInputPerMillion ?? info.price.inputPerMillion;
    return ((usage.promptTokens - cached) * info.price.inputPerMillion + cached * cachedPrice + usage.completionTokens * info.price.outputPerMillion) / 1_000_000;
  }
}
