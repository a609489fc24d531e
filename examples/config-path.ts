/** The examples' config: `DETOUR_CONFIG`, else `examples/detour.yaml` (run them from the repository's root). */
export const configPath = process.env.DETOUR_CONFIG ?? 'examples/detour.yaml';
