import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../kernel/ids.ts';
import { startTestApp, type TestApp } from '../../../test/support/app.ts';

// With identity in the process (the other promotions tests run without it, their sellers being tokens only).
describe("an admin's coupon for a seller", () => {
  let t: TestApp;
  let admin: string;
  beforeAll(async () => {
    t = await startTestApp();
    admin = await t.app.ctx.tokens.signAccess({ userId: newId(), roles: ['admin'], sessionId: 's' });
  });
  afterAll(() => t.close());

  it('is refused with 422 unknown-seller when no account has that id, and made for a real seller', async () => {
    const create = (code: string, sellerId: string) => t.post('/api/v1/coupons', { code, kind: 'percentage', value: 10, sellerId }, { token: admin });
    const ghost = await create('GHOST10', newId());
    expect(ghost.status).toBe(422);
    expect(ghost.body.type).toMatch(/\/unknown-seller$/);
    const signup = await t.post('/api/v1/auth/signup', { email: `seller-${newId()}@example.com`, password: 'long-enough-password-42', name: 'Sal Seller', role: 'seller', storeName: 'Sal Sells' });
    expect(signup.status).toBe(201);
    const real = await create('REAL10', signup.body.user.id);
    expect(real.status).toBe(201);
    expect(real.body.sellerId).toBe(signup.body.user.id);
  });
});
