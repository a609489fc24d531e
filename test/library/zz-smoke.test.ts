import { afterEach, expect, it } from 'vitest';
import { Cleanup } from '../helpers/gateway.js';
import { twoSimGateway } from './library-helpers.js';
const cleanup = new Cleanup();
afterEach(() => cleanup.run());
it('smoke', async () => {
  const { primary, gateway } = await twoSimGateway(cleanup);
  primary.setPlan({ faults: [{ status: 529 }] });
  const r = await gateway.chat({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] });
  console.log(JSON.stringify(r, null, 1).slice(0, 1500));
  const s = await gateway.chatStream({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] });
  for await (const c of s) console.log(JSON.stringify(c));
  console.log(s.served);
  expect(r.served.isFailover).toBe(true);
});
