import type { Principal } from '../../kernel/http/auth.ts';
import { badRequest, notFound } from '../../kernel/http/problem.ts';
import type { ModuleContext } from '../../kernel/module.ts';
import { IdentityEvents, type SellerDirectory, type SellerStatusChanged } from './contract.ts';
import { cleanText, sellerTransition, type SellerStatus } from './service.ts';
import * as store from './store.ts';
import type { SellerProfileRecord } from './store.ts';

/** Seller profiles: the store a seller runs, its public face, and the admin's suspend/reinstate. */

export async function findSeller(ctx: ModuleContext, sellerId: string): Promise<SellerProfileRecord> {
  const user = await store.findUserById(ctx.db, sellerId);
  // A store whose owner lost the seller role is closed, not merely suspended: it is not shown.
  if (!user || user.status !== 'active' || !user.sellerProfile || !user.roles.includes('seller')) throw notFound('Seller');
  return user.sellerProfile;
}

export async function updateOwnSellerProfile(
  ctx: ModuleContext,
  principal: Principal,
  patch: { storeName?: string; description?: string },
): Promise<SellerProfileRecord> {
  const storeName = patch.storeName === undefined ? undefined : cleanText(patch.storeName);
  if (storeName === '') throw badRequest('storeName must not be blank', [{ path: '/storeName', message: 'must not be blank' }]);
  const description = patch.description?.trim();
  return ctx.transaction(async (tx) => {
    const user = await store.findUserById(tx, principal.userId, { forUpdate: true });
    if (!user || user.status !== 'active' || !user.sellerProfile) throw notFound('Seller profile');
    await store.updateSellerProfile(tx, user.id, { storeName, description });
    await ctx.audit(tx, {
      actorId: principal.userId,
      actorRoles: principal.roles,
      action: 'seller.profile.updated',
      targetType: 'seller',
      targetId: user.id,
      details: { fields: Object.keys(patch).filter((k) => patch[k as keyof typeof patch] !== undefined) },
    });
    return (await store.findUserById(tx, user.id))!.sellerProfile!;
  });
}

/** Suspending a suspended seller, or reinstating an active one, is a no-op: no event, no audit entry. */
export async function changeSellerStatus(
  ctx: ModuleContext,
  principal: Principal,
  sellerId: string,
  wanted: SellerStatus,
  reason?: string,
): Promise<SellerProfileRecord> {
  const cleanReason = reason === undefined ? undefined : cleanText(reason);
  if (wanted === 'suspended' && !cleanReason) throw badRequest('A suspension needs a reason', [{ path: '/reason', message: 'must not be blank' }]);
  return ctx.transaction(async (tx) => {
    const user = await store.findUserById(tx, sellerId, { forUpdate: true });
    if (!user || user.status !== 'active' || !user.sellerProfile) throw notFound('Seller');
    if (sellerTransition(user.sellerProfile.status, wanted) === 'unchanged') return user.sellerProfile;
    await store.setSellerStatus(tx, sellerId, wanted, cleanReason ?? null);
    const suspended = wanted === 'suspended';
    await ctx.publish<SellerStatusChanged>(tx, {
      type: suspended ? IdentityEvents.SellerSuspended : IdentityEvents.SellerReinstated,
      aggregateId: sellerId,
      data: { sellerId, status: wanted, ...(cleanReason ? { reason: cleanReason } : {}) },
    });
    await ctx.audit(tx, {
      actorId: principal.userId,
      actorRoles: principal.roles,
      action: suspended ? 'seller.suspended' : 'seller.reinstated',
      targetType: 'seller',
      targetId: sellerId,
      details: cleanReason ? { reason: cleanReason } : {},
    });
    return (await store.findUserById(tx, sellerId))!.sellerProfile!;
  });
}

export function sellerDirectory(ctx: ModuleContext): SellerDirectory {
  return {
    isSellerActive: (sellerId) => store.isSellerActive(ctx.db, sellerId),
  };
}
