import { Type } from '@sinclair/typebox';

// Ids are UUID v7, time-ordered, so newest-first is `order by id desc` and the cursor is the last id.
import { sql } from 'kysely';
import { recordAudit } from './audit.ts';
import type { Db } from './db/database.ts';
import type { Subscription } from './events/bus.ts';
import { replayDeadLetter, toDeadLetter } from './events/consumers.ts';
import { principalOf, requirePermission } from './http/auth.ts';
import { conflict, notFound } from './http/problem.ts';
import { IdParams, ListQuery, decodeIdCursor, encodeCursor, errorResponses } from './http/schemas.ts';
import type { HttpApp } from './module.ts';

const DeadLetter = Type.Object({
  id: Type.String(),
  consumer: Type.String(),
  eventId: Type.String(),
  eventType: Type.String(),
  event: Type.Unknown(),
  error: Type.String(),
  attempts: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
  replayedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

const AuditEntry = Type.Object({
  id: Type.String(),
  at: Type.String({ format: 'date-time' }),
  actorId: Type.Union([Type.String(), Type.Null()]),
  actorRoles: Type.Array(Type.String()),
  action: Type.String(),
  targetType: Type.String(),
  targetId: Type.Union([Type.String(), Type.Null()]),
  details: Type.Record(Type.String(), Type.Unknown()),
  requestId: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
});

/** Platform endpoints owned by the kernel: dead letters (list, replay) and the audit log. */
export function registerPlatformRoutes(app: HttpApp, db: Db, subscriptions: Map<string, Subscription>) {
  app.get('/admin/dead-letters', {
    preHandler: requirePermission('events:manage'),
    schema: {
      tags: ['platform'],
      summary: 'Events a consumer gave up on after its retries',
      security: [{ bearer: [] }],
      querystring: Type.Object({
        ...ListQuery,
        status: Type.Union([Type.Literal('open'), Type.Literal('replayed'), Type.Literal('all')], { default: 'open' }),
        consumer: Type.Optional(Type.String({ maxLength: 100 })),
      }),
      response: { 200: Type.Object({ items: Type.Array(DeadLetter), nextCursor: Type.Union([Type.String(), Type.Null()]) }), ...errorResponses(400, 401, 403) },
    },
  }, async (request) => {
    const { limit, cursor, status, consumer } = request.query;
    const after = decodeIdCursor(cursor);
    const { rows } = await sql<Record<string, any>>`
      select * from kernel.dead_letters
      where true
        ${status === 'open' ? sql`and replayed_at is null` : status === 'replayed' ? sql`and replayed_at is not null` : sql``}
        ${consumer ? sql`and consumer = ${consumer}` : sql``}
        ${after ? sql`and id < ${after}::uuid` : sql``}
      order by id desc
      limit ${limit + 1}`.execute(db);
    const items = rows.slice(0, limit).map(toDeadLetter);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last ? encodeCursor([last.id]) : null };
  });

  app.post('/admin/dead-letters/:id/replay', {
    preHandler: requirePermission('events:manage'),
    schema: {
      tags: ['platform'],
      summary: 'Deliver a dead-lettered event to its consumer once more',
      security: [{ bearer: [] }],
      params: IdParams,
      response: { 200: DeadLetter, ...errorResponses(401, 403, 404, 409) },
    },
  }, async (request) => {
    if (!/^[0-9a-f-]{36}$/i.test(request.params.id)) throw notFound('Dead letter');
    const result = await replayDeadLetter(db, subscriptions, request.params.id);
    if (result.status === 'not-found') throw notFound('Dead letter');
    if (result.status !== 'no-consumer') {
      const principal = principalOf(request);
      await recordAudit(db, {
        actorId: principal.userId,
        actorRoles: principal.roles,
        action: result.status === 'replayed' ? 'dead-letter.replayed' : 'dead-letter.replay-failed',
        targetType: 'dead-letter',
        targetId: result.letter.id,
        details: { consumer: result.letter.consumer, eventId: result.letter.eventId, eventType: result.letter.eventType },
        ip: request.ip,
      });
    }
    if (result.status === 'no-consumer') throw conflict('no-consumer', `No consumer ${result.letter.consumer} runs in this process`);
    if (result.status === 'failed') throw conflict('replay-failed', `The consumer failed again: ${result.letter.error}`, { deadLetter: result.letter });
    return result.letter;
  });

  app.get('/admin/audit-log', {
    preHandler: requirePermission('audit:read'),
    schema: {
      tags: ['platform'],
      summary: 'Every admin and seller write: who did what to which target',
      security: [{ bearer: [] }],
      querystring: Type.Object({
        ...ListQuery,
        actorId: Type.Optional(Type.String({ maxLength: 100 })),
        action: Type.Optional(Type.String({ maxLength: 100 })),
        targetType: Type.Optional(Type.String({ maxLength: 100 })),
        targetId: Type.Optional(Type.String({ maxLength: 100 })),
      }),
      response: { 200: Type.Object({ items: Type.Array(AuditEntry), nextCursor: Type.Union([Type.String(), Type.Null()]) }), ...errorResponses(400, 401, 403) },
    },
  }, async (request) => {
    const { limit, cursor, actorId, action, targetType, targetId } = request.query;
    const after = decodeIdCursor(cursor);
    const { rows } = await sql<Record<string, any>>`
      select * from kernel.audit_log
      where true
        ${actorId ? sql`and actor_id = ${actorId}` : sql``}
        ${action ? sql`and action = ${action}` : sql``}
        ${targetType ? sql`and target_type = ${targetType}` : sql``}
        ${targetId ? sql`and target_id = ${targetId}` : sql``}
        ${after ? sql`and id < ${after}::uuid` : sql``}
      order by id desc
      limit ${limit + 1}`.execute(db);
    const items = rows.slice(0, limit).map((r) => ({
      id: r.id,
      at: new Date(r.at).toISOString(),
      actorId: r.actor_id,
      actorRoles: r.actor_roles ?? [],
      action: r.action,
      targetType: r.target_type,
      targetId: r.target_id,
      details: r.details ?? {},
      requestId: r.request_id,
      ip: r.ip,
    }));
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last ? encodeCursor([last.id]) : null };
  });
}
