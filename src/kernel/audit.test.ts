import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/support/databases.ts';
import { listAuditEntriesByActor, recordAudit } from './audit.ts';
import { migrateSchema } from './db/migrations.ts';
import { kernelMigrations } from './migrations.ts';

describe("an actor's audit trail", () => {
  let testDb: TestDatabase;
  beforeAll(async () => {
    testDb = await createTestDatabase();
    await migrateSchema(testDb.database.db, 'kernel', kernelMigrations);
  });
  afterAll(() => testDb.drop());

  it('lists what one actor did, oldest first, and nothing of anyone else', async () => {
    const { db } = testDb.database;
    await db.transaction().execute(async (tx) => {
      await recordAudit(tx, { actorId: 'seller-1', actorRoles: ['seller'], action: 'product.create', targetType: 'product', targetId: 'p1', details: { name: 'Mug' } });
      await recordAudit(tx, { actorId: 'admin-1', actorRoles: ['admin'], action: 'seller.suspend', targetType: 'seller', targetId: 'seller-1' });
    });
    await db.transaction().execute((tx) =>
      recordAudit(tx, { actorId: 'seller-1', actorRoles: ['seller'], action: 'product.archive', targetType: 'product', targetId: 'p1' }),
    );

    const trail = await listAuditEntriesByActor(db, 'seller-1');
    expect(trail.map((e) => e.action)).toEqual(['product.create', 'product.archive']);
    expect(trail[0]).toMatchObject({ actorId: 'seller-1', actorRoles: ['seller'], targetType: 'product', targetId: 'p1', details: { name: 'Mug' } });
    expect(Date.parse(trail[0]!.at)).not.toBeNaN();
    expect(await listAuditEntriesByActor(db, 'nobody')).toEqual([]);
  });
});
