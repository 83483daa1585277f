import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../kernel/ids.ts';
import { startTestApp, type TestApp } from '../../../test/support/app.ts';

// With identity in the process (the other payments tests run without it, their users being tokens only).
describe('store credit for an account that does not exist', () => {
  let t: TestApp;
  let admin: string;
  let customer: { id: string };
  beforeAll(async () => {
    t = await startTestApp();
    admin = await t.app.ctx.tokens.signAccess({ userId: newId(), roles: ['admin'], sessionId: 's' });
    const signup = await t.post('/api/v1/auth/signup', { email: `credit-${newId()}@example.com`, password: 'long-enough-password-42', name: 'Cora Credit' });
    expect(signup.status).toBe(201);
    customer = { id: signup.body.user.id };
  });
  afterAll(() => t.close());

  const grant = (userId: string) =>
    t.post('/api/v1/admin/store-credit', { userId, amount: { amount: 100, currency: 'USD' }, reason: 'goodwill' }, { token: admin });

  it('is refused with 404, and its ledger is not found either; a real account gets its credit', async () => {
    for (const userId of [newId(), 'garbage']) {
      const refused = await grant(userId);
      expect(refused.status).toBe(404);
      expect(refused.headers['content-type']).toContain('application/problem+json');
      expect((await t.get(`/api/v1/admin/store-credit/${userId}`, { token: admin })).status).toBe(404);
    }
    expect((await grant(customer.id)).status).toBe(201);
    const ledger = await t.get(`/api/v1/admin/store-credit/${customer.id}`, { token: admin });
    expect(ledger.status).toBe(200);
    expect(ledger.body.balance.amount).toBe(100);
  });
});
