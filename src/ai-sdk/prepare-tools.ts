import type { LanguageModelV3CallOptions, SharedV3Warning } from '@ai-sdk/provider';
import type { ToolChoice, ToolDefinition } from '../providers/types.js';

/** The AI SDK's tools and tool choice as OpenAI function tools. Provider-defined tools have no canonical form. */
export function prepareTools(options: Pick<LanguageModelV3CallOptions, 'tools' | 'toolChoice'>): {
  tools: ToolDefinition[] | undefined;
  toolChoice: ToolChoice | undefined;
  warnings: SharedV3Warning[];
} {
  const warnings: SharedV3Warning[] = [];
  const tools: ToolDefinition[] = [];
  for (const tool of options.tools ?? []) {
    if (tool.type === 'provider') {
      warnings.push({ type: 'unsupported', feature: `provider-defined tool ${tool.id}` });
      continue;
    }
    tools.push({
      type: 'function',
      function: {
        name: tool.name,
        ...(tool.description !== undefined ? { description: tool.description } : {}),
        parameters: tool.inputSchema as Record<string, unknown>,
        ...(tool.strict !== undefined ? { strict: tool.strict } : {}),
      },
    });
  }
  if (tools.length === 0) return { tools: undefined, toolChoice: undefined, warnings };
  return { tools, toolChoice: toToolChoice(options.toolChoice), warnings };
}

function toToolChoice(choice: LanguageModelV3CallOptions['toolChoice']): ToolChoice | undefined {
  if (!choice) return undefined;
  if (choice.type === 'tool') return { type: 'function', function: { name: choice.toolName } };
  return choice.type;
}
