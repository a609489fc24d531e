import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfigText } from '../../src/config/load.js';
import { toRuntimeSettings } from '../../src/config/runtime.js';
import { RouteTable } from '../../src/engine/route-table.js';

const types = ['openai', 'anthropic'];

function load(text: string, env: Record<string, string> = {}) {
  return parseConfigText(text, { providerTypes: types, env, fileName: 'detour.yaml' });
}

function problemsOf(text: string, env: Record<string, string> = {}): readonly string[] {
  try {
    load(text, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

const providers = `
providers:
  us: { type: openai, base_url: "http://127.0.0.1:9001/v1", api_key: k1, region: us-east }
  eu: { type: openai, base_url: "http://127.0.0.1:9002/v1", api_key: k2, region: eu-west }
  de: { type: anthropic, base_url: "http://127.0.0.1:9003", api_key: k3, region: eu-central }
  plain: { type: openai, base_url: "http://127.0.0.1:9004/v1", api_key: k4 }
`;

describe('regions in the config', () => {
  it('reads region on providers and targets (a target`s wins), server.region, and a route`s regions', () => {
    const config = load(`
server: { region: eu-west }
${providers}
models:
  chat:
    strategy: nearest
    regions: [eu-west, eu-central]
    targets:
      - { provider: us, model: m }
      - { provider: eu, model: m }
      - { provider: plain, model: m, region: eu-central }
      - { provider: de, model: c }
`);
    const settings = toRuntimeSettings(config);
    expect(settings.region).toBe('eu-west');
    expect(settings.providers.find((provider) => provider.name === 'us')?.region).toBe('us-east');
    const route = settings.routes[0];
    expect(route?.regions).toEqual(['eu-west', 'eu-central']);
    expect(route?.strategy).toBe('nearest');
    const table = new RouteTable(settings.providers, settings.routes, settings.defaults);
    const kept = table.resolve('chat')?.groups.flatMap((group) => group.targets.map((target) => [target.id, target.region]));
    // us/m is outside the route's regions: it is not one of its targets at all.
    expect(kept).toEqual([
      ['eu/m', 'eu-west'],
      ['plain/m', 'eu-central'],
      ['de/c', 'eu-central'],
    ]);
  });

  it('DETOUR_REGION sets the instance`s region, over server.region', () => {
    const text = `server: { region: us-east }\n${providers}\nmodels: { chat: { targets: [ { provider: us, model: m } ] } }\n`;
    expect(load(text).server.region).toBe('us-east');
    expect(load(text, { DETOUR_REGION: 'eu-west' }).server.region).toBe('eu-west');
    expect(load(`${providers}\nmodels: { chat: { targets: [ { provider: us, model: m } ] } }\n`, { DETOUR_REGION: 'ap-south' }).server.region).toBe('ap-south');
    expect(problemsOf(text, { DETOUR_REGION: 'EU West!' })).toEqual([expect.stringMatching(/^server\.region: a region name is lower-case letters, digits and dashes/)]);
  });

  it.each([
    ['a region name with upper case', `  x: { type: openai, base_url: "http://127.0.0.1:1/v1", region: US-East }`, /^providers\.x\.region: a region name is lower-case letters/],
    ['a region name too long', `  x: { type: openai, base_url: "http://127.0.0.1:1/v1", region: ${'a'.repeat(33)} }`, /^providers\.x\.region: a region name has at most 32 characters/],
    ['a region with a newline', `  x: { type: openai, base_url: "http://127.0.0.1:1/v1", region: "eu\\nwest" }`, /^providers\.x\.region: a region name is lower-case letters/],
  ])('refuses %s, naming the path and line', (_name, provider, expected) => {
    const problems = problemsOf(`providers:\n${provider}\nmodels: { chat: { targets: [ { provider: x, model: m } ] } }\n`);
    expect(problems).toContainEqual(expect.stringMatching(expected));
    for (const problem of problems) expect(problem).toMatch(/^providers\.x\.region: .*\(detour\.yaml:2\)$/);
  });

  it('refuses a restricted route with no target in its regions, a mirror or degraded route outside them, and regions listed twice', () => {
    const problems = problemsOf(`
${providers}
models:
  cheap: { targets: [ { provider: us, model: small } ] }
  eu-only:
    regions: [eu-west]
    targets: [ { provider: us, model: m }, { provider: plain, model: m } ]
  eu-mirrored:
    regions: [eu-west, eu-central]
    targets: [ { provider: eu, model: m } ]
    mirror: { provider: us, model: m }
    degrade_to: cheap
  twice:
    regions: [eu-west, eu-west]
    targets: [ { provider: eu, model: m } ]
`);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^models\.eu-only\.regions: no target of this route is in eu-west \(its targets are in us-east, \(none\)\): it could never answer \(detour\.yaml:\d+\)$/),
        expect.stringMatching(/^models\.eu-mirrored\.mirror\.provider: the mirror's provider "us" is not in eu-west, eu-central/),
        expect.stringMatching(/^models\.eu-mirrored\.degrade_to: route "cheap" has targets outside eu-west, eu-central/),
        expect.stringMatching(/^models\.twice\.regions: a region is listed twice/),
      ]),
    );
    expect(problems).toHaveLength(4);
  });

  it('refuses one provider and model in two regions (one target, one set of breakers)', () => {
    const problems = problemsOf(`
${providers}
models:
  a: { targets: [ { provider: plain, model: m, region: eu-west } ] }
  b: { targets: [ { provider: plain, model: m, region: us-east } ] }
`);
    expect(problems).toEqual([expect.stringMatching(/^models\.b\.targets\[0\]\.region: plain\/m is in region us-east here but eu-west at models\.a\.targets\[0\]/)]);
  });

  it('accepts nearest without any region (it then orders by latency alone)', () => {
    expect(problemsOf(`${providers}\nmodels: { chat: { strategy: nearest, targets: [ { provider: plain, model: m } ] } }\n`)).toEqual([]);
  });
});
