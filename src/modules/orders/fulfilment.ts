import type { Db } from '../../kernel/db/database.ts';
import { notFound } from '../../kernel/http/problem.ts';
import type { ModuleContext } from '../../kernel/module.ts';
import { OrderEvents } from './contract.ts';
import { changeStatus, publishOrderEvent, type Change } from './lifecycle.ts';
import { InvalidTransitionError } from './service.ts';
import * as store from './store.ts';
import type { GroupRecord, OrderRecord } from './store.ts';

/**
 * Shipping and delivering, per fulfilment group: a seller ships its own group, an admin any (or all).
 * The order follows its groups: the first parcel out moves a paid order to processing, the last one
 * moves it to shipped; the last parcel delivered moves it to delivered.
 */

export interface FulfilmentActor {
  userId: string;
  /** Set when the actor acts as a seller: only that seller's group is in reach. */
  sellerId: string | null;
}

function groupsInReach(order: OrderRecord, actor: FulfilmentActor, groupId: string | undefined): GroupRecord[] {
  let groups = order.groups;
  if (actor.sellerId) groups = groups.filter((g) => g.sellerId === actor.sellerId);
  if (groupId) groups = groups.filter((g) => g.id === groupId);
  if (groups.length === 0) throw notFound('Order');
  return groups;
}

const refuse = (order: OrderRecord, to: 'shipped' | 'delivered', why: string) =>
  new InvalidTransitionError(order.status, to, why);

export async function shipGroups(
  ctx: ModuleContext,
  tx: Db,
  order: OrderRecord,
  actor: FulfilmentActor,
  parcel: { trackingNumber: string; carrier?: string; groupId?: string },
): Promise<void> {
  // Reach first: a seller with nothing in the order learns nothing about it (404), not its status.
  const inReach = groupsInReach(order, actor, parcel.groupId);
  if (order.status !== 'paid' && order.status !== 'processing') {
    throw refuse(order, 'shipped', order.status === 'pending' || order.status === 'payment_failed' ? 'the order is not paid' : `the order is ${order.status}`);
  }
  const targets = inReach.filter((g) => g.status === 'pending');
  if (targets.length === 0) throw refuse(order, 'shipped', 'that part of the order has shipped already');
  const at = new Date();
  for (const group of targets) {
    group.status = 'shipped';
    group.trackingNumber = parcel.trackingNumber;
    group.carrier = parcel.carrier ?? null;
    group.shippedAt = at;
    await store.saveGroup(tx, order.id, group);
  }
  const change: Change = {
    actorId: actor.userId,
    reason: `shipped with tracking number ${parcel.trackingNumber}${parcel.carrier ? ` (${parcel.carrier})` : ''}`,
    groupId: targets.length === 1 ? targets[0]!.id : null,
  };
  const previous = order.status;
  if (order.status === 'paid') await changeStatus(ctx, tx, order, 'processing', { ...change, reason: 'fulfilment started' });
  if (order.groups.every((g) => g.status !== 'pending')) await changeStatus(ctx, tx, order, 'shipped', change);
  else await store.saveOrderState(tx, { ...order, updatedAt: at });
  await publishOrderEvent(ctx, tx, OrderEvents.OrderShipped, order, previous, change);
}

export async function deliverGroups(
  ctx: ModuleContext,
  tx: Db,
  order: OrderRecord,
  actor: FulfilmentActor,
  groupId: string | undefined,
): Promise<void> {
  const inReach = groupsInReach(order, actor, groupId);
  if (order.status !== 'shipped' && order.status !== 'processing') {
    throw refuse(order, 'delivered', `the order is ${order.status}`);
  }
  const targets = inReach.filter((g) => g.status === 'shipped');
  if (targets.length === 0) throw refuse(order, 'delivered', 'nothing of that part of the order is on its way');
  const at = new Date();
  for (const group of targets) {
    group.status = 'delivered';
    group.deliveredAt = at;
    await store.saveGroup(tx, order.id, group);
  }
  const change: Change = { actorId: actor.userId, reason: 'delivered', groupId: targets.length === 1 ? targets[0]!.id : null };
  const previous = order.status;
  const open = order.groups.filter((g) => g.status !== 'cancelled');
  if (open.every((g) => g.status === 'delivered')) await changeStatus(ctx, tx, order, 'delivered', change);
  else await store.saveOrderState(tx, { ...order, updatedAt: at });
  await publishOrderEvent(ctx, tx, OrderEvents.OrderDelivered, order, previous, change);
}
