import { expect, it } from 'vitest';
import { addedResources } from './library-helpers.js';

it('importing the library starts nothing and opens nothing', async () => {
  const before = process.getActiveResourcesInfo();
  const library = await import('../../src/index.js');
  const aiSdk = await import('../../src/ai-sdk/index.js');
  expect(typeof library.createGateway).toBe('function');
  expect(typeof aiSdk.createDetour).toBe('function');
  expect(addedResources(before)).toEqual([]);
});
