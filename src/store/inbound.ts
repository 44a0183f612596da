/**
 * Inbound routing queries, written once with Kysely for both dialects: routes (a server's claim
 * on a domain or address, unique in the instance), received messages stored with one post row
 * per routed recipient, the post claim (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite has one
 * writer and one connection per process), attempts, the message log and replay.
 */
import { lanesOrDefault } from './claim-lanes.js';
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import { concatInSlices } from '../core/sliced-copy.js';
import type { Database, InboundPostsTable, InboundRoutesTable } from './schema.js';
import type { PageRequest } from './store.js';
import { heldByDeadWorker } from './workers.js';
import { candidateLimit, fitToLanes, fullLanes, type ClaimLanes } from './claim-lanes.js';

type Db = Kysely<Database> | Transaction<Database>;

export type InboundRouteKind = 'domain' | 'address';

export interface InboundRoute {
  id: number;
  serverId: number;
  /** `example.com` or `support@example.com`, lower-cased. */
  match: string;
  kind: InboundRouteKind;
  url: string;
  /** SocketLabs' SecretKey, sent in every payload. */
  secretKey: string;
  /** Standard Webhooks secrets, newest first (webhooks/endpoint.ts decides which ones sign). */
  signingSecrets: string[];
  secretsRotatedAt: number | null;
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
  validatedAt: number | null;
}
export interface NewInboundRoute {
  serverId: number;
  match: string;
  kind: InboundRouteKind;
  url: string;
  secretKey: string;
  signingSecret: string;
  enabled: boolean;
  validatedAt: number | null;
}
export type InboundRoutePatch = Partial<Pick<InboundRoute, 'url' | 'enabled' | 'validatedAt' | 'signingSecrets' | 'secretsRotatedAt'>>;
/** What the MX listener needs of every route to decide RCPT: loaded whole, cached briefly. */
export interface InboundRouteEntry {
  id: number;
  serverId: number;
  match: string;
  kind: InboundRouteKind;
  enabled: boolean;
}

/** One message accepted by the MX listener: stored once, posted once per routed recipient. */
export interface NewInboundMessage {
  id: string;
  mailFrom: string;
  remoteIp: string;
  helo: string | null;
  receivedAt: number;
  raw: Buffer;
  /** The bytes were stored beforehand in chunks (putBodyChunk): only the message and its posts are written now. */
  bodyStored?: boolean;
  posts: readonly { routeId: number; serverId: number; rcptTo: string }[];
}
export type InboundPostStatus = 'pending' | 'failed' | 'delivered' | 'gave_up';
/** A claimed post with what its payload needs except the raw bytes (loaded one at a time, they may be 50 MB). */
export interface InboundWork {
  postId: number;
  attempts: number;
  route: InboundRoute;
  message: { id: string; mailFrom: string; rcptTo: string; remoteIp: string; helo: string | null; sizeBytes: number; receivedAt: number };
}
export interface InboundAttemptRecord {
  postId: number;
  routeId: number;
  ok: boolean;
  httpStatus: number | null;
  durationMs: number;
  error: string | null;
  responseSnippet: string | null;
  next: { status: 'delivered' | 'failed' | 'gave_up'; attempts: number; nextAttemptAt: number };
}
/** A post as the API lists it: one message to one routed recipient. */
export interface InboundPostView {
  id: number;
  messageId: string;
  routeId: number;
  rcptTo: string;
  mailFrom: string;
  sizeBytes: number;
  receivedAt: number;
  status: InboundPostStatus;
  attempts: number;
  nextAttemptAt: number | null;
  lastStatus: number | null;
  lastError: string | null;
}
export interface InboundAttempt {
  id: number;
  postId: number;
  at: number;
  ok: boolean;
  httpStatus: number | null;
  durationMs: number;
  error: string | null;
  responseSnippet: string | null;
}

/**
 * Bytes per stored chunk. A message larger than one chunk has its chunks written first, one
 * statement each, and only then its row and posts in the group commit: committing 25 MB at once
 * blocked the event loop for 200 ms on SQLite (the WAL write happens inside COMMIT). Every chunk
 * but a message's last is exactly this long, which is how rawOf knows it has read the last one.
 */
export const INBOUND_BODY_CHUNK_BYTES = 1024 * 1024;

const UNDELIVERED = ['pending', 'failed'] as const;
const num = (v: number | null) => (v === null ? null : Number(v));

export const toInboundRoute = (r: Selectable<InboundRoutesTable>): InboundRoute => ({
  id: Number(r.id),
  serverId: Number(r.server_id),
  match: r.match,
  kind: r.kind as InboundRouteKind,
  url: r.url,
  secretKey: r.secret_key,
  signingSecrets: JSON.parse(r.signing_secrets) as string[],
  secretsRotatedAt: num(r.secrets_rotated_at),
  enabled: Number(r.enabled) === 1,
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
  validatedAt: num(r.validated_at),
});

/** Inserts the route unless its match is taken (by any server): undefined then. */
export async function createRoute(db: Db, input: NewInboundRoute, now: number): Promise<InboundRoute | undefined> {
  const row = await db
    .insertInto('inbound_routes')
    .values({
      server_id: input.serverId,
      match: input.match.toLowerCase(),
      kind: input.kind,
      url: input.url,
      secret_key: input.secretKey,
      signing_secrets: JSON.stringify([input.signingSecret]),
      secrets_rotated_at: null,
      enabled: input.enabled ? 1 : 0,
      created_at: now,
      updated_at: now,
      validated_at: input.validatedAt,
    })
    .onConflict((oc) => oc.column('match').doNothing())
    .returningAll()
    .executeTakeFirst();
  return row && toInboundRoute(row);
}

export async function getRoute(db: Db, serverId: number, id: number): Promise<InboundRoute | undefined> {
  const row = await db.selectFrom('inbound_routes').selectAll().where('server_id', '=', serverId).where('id', '=', id).executeTakeFirst();
  return row && toInboundRoute(row);
}

export async function listRoutes(db: Db, serverId: number, page: PageRequest): Promise<{ rows: InboundRoute[]; total: number }> {
  const [rows, count] = await Promise.all([
    db
      .selectFrom('inbound_routes')
      .selectAll()
      .where('server_id', '=', serverId)
      .orderBy('created_at', page.direction)
      .orderBy('id', page.direction)
      .limit(page.limit)
      .offset(page.offset)
      .execute(),
    db
      .selectFrom('inbound_routes')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('server_id', '=', serverId)
      .executeTakeFirstOrThrow(),
  ]);
  return { rows: rows.map(toInboundRoute), total: Number(count.n) };
}

export async function routingTable(db: Db): Promise<InboundRouteEntry[]> {
  const rows = await db.selectFrom('inbound_routes').select(['id', 'server_id', 'match', 'kind', 'enabled']).execute();
  return rows.map((r) => ({
    id: Number(r.id),
    serverId: Number(r.server_id),
    match: r.match,
    kind: r.kind as InboundRouteKind,
    enabled: Number(r.enabled) === 1,
  }));
}

export async function updateRoute(db: Db, serverId: number, id: number, patch: InboundRoutePatch, now: number): Promise<InboundRoute | undefined> {
  const set: Partial<Selectable<InboundRoutesTable>> = { updated_at: now };
  if (patch.url !== undefined) set.url = patch.url;
  if (patch.enabled !== undefined) set.enabled = patch.enabled ? 1 : 0;
  if (patch.validatedAt !== undefined) set.validated_at = patch.validatedAt;
  if (patch.signingSecrets !== undefined) set.signing_secrets = JSON.stringify(patch.signingSecrets);
  if (patch.secretsRotatedAt !== undefined) set.secrets_rotated_at = patch.secretsRotatedAt;
  const row = await db.updateTable('inbound_routes').set(set).where('server_id', '=', serverId).where('id', '=', id).returningAll().executeTakeFirst();
  return row && toInboundRoute(row);
}

/** Deletes the route with its posts and attempts (cascade), then the messages no route wants any more. */
export async function deleteRoute(trx: Db, serverId: number, id: number): Promise<boolean> {
  const messageIds = (
    await trx.selectFrom('inbound_posts').select('message_id').distinct().where('route_id', '=', id).where('server_id', '=', serverId).execute()
  ).map((r) => r.message_id);
  const res = await trx.deleteFrom('inbound_routes').where('server_id', '=', serverId).where('id', '=', id).executeTakeFirst();
  if (Number(res.numDeletedRows) === 0) return false;
  for (let i = 0; i < messageIds.length; i += 500) {
    const part = messageIds.slice(i, i + 500);
    const orphaned = (
      await trx
        .selectFrom('inbound_messages')
        .select('id')
        .where('id', 'in', part)
        .where((eb) => eb.not(eb.exists(eb.selectFrom('inbound_posts').select('id').whereRef('inbound_posts.message_id', '=', 'inbound_messages.id'))))
        .execute()
    ).map((r) => r.id);
    if (orphaned.length === 0) continue;
    await trx.deleteFrom('inbound_bodies').where('message_id', 'in', orphaned).execute();
    await trx.deleteFrom('inbound_messages').where('id', 'in', orphaned).execute();
  }
  return true;
}

/** The message, its bytes and its posts: callers run this in one transaction (answered 250 only after it). */
export async function insertMessage(trx: Db, m: NewInboundMessage): Promise<void> {
  await trx
    .insertInto('inbound_messages')
    .values({
      id: m.id,
      mail_from: m.mailFrom,
      remote_ip: m.remoteIp,
      helo: m.helo,
      size_bytes: m.raw.length,
      received_at: m.receivedAt,
    })
    .execute();
  if (!m.bodyStored) await trx.insertInto('inbound_bodies').values({ message_id: m.id, seq: 0, content: m.raw, created_at: m.receivedAt }).execute();
  if (m.posts.length === 0) return;
  await trx
    .insertInto('inbound_posts')
    .values(
      m.posts.map((p) => ({
        message_id: m.id,
        route_id: p.routeId,
        server_id: p.serverId,
        rcpt_to: p.rcptTo,
        status: 'pending',
        attempts: 0,
        next_attempt_at: m.receivedAt,
        last_status: null,
        last_error: null,
        locked_by: null,
        locked_at: null,
        created_at: m.receivedAt,
        updated_at: m.receivedAt,
      })),
    )
    .execute();
}

/**
 * The candidate posts of a claim (exported so a test can check its plan uses the lane index). Each
 * enabled route is a lane: at most `lanes.perLane` of its oldest due posts, so one route's backlog
 * or slow endpoint cannot fill the claim; routes this process holds its fill of are left out.
 * PostgreSQL reads each lane with a LATERAL subquery under SKIP LOCKED; SQLite, which has no
 * LATERAL, with a correlated IN subquery.
 */
export function duePostsQuery(
  db: Db,
  kind: 'sqlite' | 'postgres',
  lanes: ClaimLanes,
  limit: number,
  now: number,
  staleBefore: number,
  deadBefore?: number,
  workerId = '',
) {
  const lane = (x: Db) => {
    const due = x
      .selectFrom('inbound_posts as x')
      .select(['x.id', 'x.next_attempt_at'])
      .where(sql<boolean>`x.route_id = r.id`)
      // Written out, not bound: a planner can use the partial index inbound_posts_lane (WHERE status
      // IN ('pending', 'failed')) only when the query names the same values. With parameters SQLite
      // scanned every post ever received: 0.5 ms per claim at 3,000 posts, growing with the table.
      .where(sql<boolean>`x.status in ('pending', 'failed')`)
      .where('x.next_attempt_at', '<=', now)
      .where((eb) =>
        eb.or([
          eb('x.locked_at', 'is', null),
          eb('x.locked_at', '<', staleBefore),
          // A claim of a dead worker (worker registry) is taken over without waiting for staleBefore.
          ...(deadBefore === undefined ? [] : [heldByDeadWorker('x.locked_by', deadBefore, workerId)]),
        ]),
      )
      .orderBy('x.next_attempt_at')
      .limit(lanes.perLane);
    return kind === 'postgres' ? due.forUpdate().skipLocked() : due;
  };
  const full = fullLanes(lanes);
  const enabled = db.selectFrom('inbound_routes as r').where('r.enabled', '=', 1);
  const routes = full.length === 0 ? enabled : enabled.where('r.id', 'not in', full);
  const picked =
    kind === 'postgres'
      ? routes.innerJoinLateral(lane(db).as('p'), (j) => j.onTrue()).select(['p.id', 'r.id as lane'])
      : // CROSS JOIN keeps routes the outer loop (SQLite does not reorder it): the lane subquery runs
        // once per route, a range of inbound_posts_lane, never once per post.
        routes.crossJoin('inbound_posts as p').where('p.id', 'in', lane(db).clearSelect().select('x.id')).select(['p.id', 'r.id as lane']);
  return picked.orderBy('p.next_attempt_at').limit(candidateLimit(lanes, limit));
}

/**
 * Locks up to `limit` due posts of enabled routes for workerId (pending or failed, due, unlocked
 * or locked before staleBefore), at most each route's room in `lanes`, and returns their ids.
 * PostgreSQL: SKIP LOCKED, so processes sharing it take disjoint batches. SQLite: the select and
 * update run in one transaction on the process's one connection, and one process owns the file.
 */
export async function claimPostIds(
  trx: Transaction<Database>,
  kind: 'sqlite' | 'postgres',
  workerId: string,
  limit: number,
  now: number,
  staleBefore: number,
  lanes: ClaimLanes,
  deadBefore?: number,
): Promise<number[]> {
  const candidates = (await duePostsQuery(trx, kind, lanes, limit, now, staleBefore, deadBefore, workerId).execute()).map((r) => ({
    id: Number(r.id),
    lane: Number(r.lane),
  }));
  const ids = fitToLanes(candidates, limit, lanes).map((c) => c.id);
  if (ids.length === 0) return [];
  await trx.updateTable('inbound_posts').set({ locked_by: workerId, locked_at: now }).where('id', 'in', ids).execute();
  return ids;
}

export async function loadWork(db: Db, postIds: readonly number[]): Promise<InboundWork[]> {
  if (postIds.length === 0) return [];
  const rows = await db
    .selectFrom('inbound_posts as p')
    .innerJoin('inbound_messages as m', 'm.id', 'p.message_id')
    .innerJoin('inbound_routes as r', 'r.id', 'p.route_id')
    .selectAll('r')
    .select([
      'p.id as post_id',
      'p.attempts as post_attempts',
      'p.rcpt_to',
      'm.id as m_id',
      'm.mail_from',
      'm.remote_ip',
      'm.helo',
      'm.size_bytes',
      'm.received_at',
    ])
    .where('p.id', 'in', postIds)
    .orderBy('p.id')
    .execute();
  return rows.map((r) => ({
    postId: Number(r.post_id),
    attempts: Number(r.post_attempts),
    route: toInboundRoute(r),
    message: {
      id: r.m_id,
      mailFrom: r.mail_from,
      rcptTo: r.rcpt_to,
      remoteIp: r.remote_ip,
      helo: r.helo,
      sizeBytes: Number(r.size_bytes),
      receivedAt: Number(r.received_at),
    },
  }));
}

/** One chunk of a message's bytes, in its own statement (a large message's chunks precede its commit). */
export async function putBodyChunk(db: Db, messageId: string, seq: number, content: Buffer, now: number): Promise<void> {
  await db.insertInto('inbound_bodies').values({ message_id: messageId, seq, content, created_at: now }).execute();
}

export async function deleteBody(db: Db, messageId: string): Promise<void> {
  await db.deleteFrom('inbound_bodies').where('message_id', '=', messageId).execute();
}

/** Deletes chunks older than `before` whose message was never committed (an accept that failed or was cut off); returns how many. */
export async function sweepOrphanBodies(db: Db, before: number): Promise<number> {
  const res = await db
    .deleteFrom('inbound_bodies')
    .where('created_at', '<', before)
    .where((eb) => eb.not(eb.exists(eb.selectFrom('inbound_messages').select('id').whereRef('inbound_messages.id', '=', 'inbound_bodies.message_id'))))
    .executeTakeFirst();
  return Number(res.numDeletedRows);
}

/**
 * The message's bytes, read a chunk per query, letting the event loop run between them (SQLite's
 * reads are synchronous: one read of a 50 MB message would hold it), and joined in slices. A chunk
 * shorter than INBOUND_BODY_CHUNK_BYTES is the last, so a message of one chunk (nearly all) costs
 * one query, and its row's Buffer is returned as the driver made it, without a copy.
 */
export async function rawOf(db: Db, messageId: string): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  for (let seq = 0; ; seq++) {
    if (seq > 0) await new Promise<void>((r) => setImmediate(r));
    const row = await db.selectFrom('inbound_bodies').select('content').where('message_id', '=', messageId).where('seq', '=', seq).executeTakeFirst();
    if (!row) break;
    chunks.push(Buffer.isBuffer(row.content) ? row.content : Buffer.from(row.content));
    if (row.content.length < INBOUND_BODY_CHUNK_BYTES) break;
  }
  if (chunks.length <= 1) return chunks[0];
  const joined = await concatInSlices(chunks);
  return Buffer.from(joined.buffer, joined.byteOffset, joined.byteLength);
}

/** The posts' next state (only rows workerId still holds) and one attempt row each; returns how many were recorded. */
export async function recordAttempts(trx: Db, workerId: string, records: readonly InboundAttemptRecord[], now: number): Promise<number> {
  let n = 0;
  for (const r of records) {
    const res = await trx
      .updateTable('inbound_posts')
      .set({
        status: r.next.status,
        attempts: r.next.attempts,
        next_attempt_at: r.next.nextAttemptAt,
        last_status: r.httpStatus,
        last_error: r.error,
        locked_by: null,
        locked_at: null,
        updated_at: now,
      })
      .where('id', '=', r.postId)
      .where('locked_by', '=', workerId)
      .executeTakeFirst();
    // A claim taken over as stale belongs to its new owner, who records its own attempt.
    if (Number(res.numUpdatedRows) === 0) continue;
    n++;
    await trx
      .insertInto('inbound_attempts')
      .values({
        post_id: r.postId,
        route_id: r.routeId,
        at: now,
        ok: r.ok ? 1 : 0,
        http_status: r.httpStatus,
        duration_ms: r.durationMs,
        error: r.error,
        response_snippet: r.responseSnippet,
      })
      .execute();
  }
  return n;
}

/** Gives claimed posts back (shutdown before posting): only rows still locked by workerId. */
export async function releasePosts(db: Db, workerId: string, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  await db.updateTable('inbound_posts').set({ locked_by: null, locked_at: null }).where('id', 'in', ids).where('locked_by', '=', workerId).execute();
}

const toPostView = (r: Selectable<InboundPostsTable> & { mail_from: string; size_bytes: number; received_at: number }): InboundPostView => ({
  id: Number(r.id),
  messageId: r.message_id,
  routeId: Number(r.route_id),
  rcptTo: r.rcpt_to,
  mailFrom: r.mail_from,
  sizeBytes: Number(r.size_bytes),
  receivedAt: Number(r.received_at),
  status: r.status as InboundPostStatus,
  attempts: Number(r.attempts),
  nextAttemptAt: r.status === 'pending' || r.status === 'failed' ? Number(r.next_attempt_at) : null,
  lastStatus: num(r.last_status),
  lastError: r.last_error,
});

function postsOf(db: Db, serverId: number, routeId: number) {
  return db
    .selectFrom('inbound_posts as p')
    .innerJoin('inbound_messages as m', 'm.id', 'p.message_id')
    .where('p.route_id', '=', routeId)
    .where('p.server_id', '=', serverId);
}

export async function listPosts(db: Db, serverId: number, routeId: number, page: PageRequest): Promise<{ rows: InboundPostView[]; total: number }> {
  const [rows, count] = await Promise.all([
    postsOf(db, serverId, routeId)
      .selectAll('p')
      .select(['m.mail_from', 'm.size_bytes', 'm.received_at'])
      .orderBy('p.created_at', page.direction)
      .orderBy('p.id', page.direction)
      .limit(page.limit)
      .offset(page.offset)
      .execute(),
    postsOf(db, serverId, routeId)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow(),
  ]);
  return { rows: rows.map(toPostView), total: Number(count.n) };
}

export async function getPost(db: Db, serverId: number, routeId: number, postId: number): Promise<InboundPostView | undefined> {
  const row = await postsOf(db, serverId, routeId)
    .selectAll('p')
    .select(['m.mail_from', 'm.size_bytes', 'm.received_at'])
    .where('p.id', '=', postId)
    .executeTakeFirst();
  return row && toPostView(row);
}

export async function listAttempts(
  db: Db,
  serverId: number,
  routeId: number,
  postId: number,
  page: PageRequest,
): Promise<{ rows: InboundAttempt[]; total: number }> {
  // The post filter carries the server and route check: another's post matches no attempt.
  const owned = db.selectFrom('inbound_posts').select('id').where('id', '=', postId).where('route_id', '=', routeId).where('server_id', '=', serverId);
  const [rows, count] = await Promise.all([
    db
      .selectFrom('inbound_attempts')
      .selectAll()
      .where('post_id', 'in', owned)
      .orderBy('at', page.direction)
      .orderBy('id', page.direction)
      .limit(page.limit)
      .offset(page.offset)
      .execute(),
    db
      .selectFrom('inbound_attempts')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('post_id', 'in', owned)
      .executeTakeFirstOrThrow(),
  ]);
  return {
    rows: rows.map((r) => ({
      id: Number(r.id),
      postId: Number(r.post_id),
      at: Number(r.at),
      ok: Number(r.ok) === 1,
      httpStatus: num(r.http_status),
      durationMs: Number(r.duration_ms),
      error: r.error,
      responseSnippet: r.response_snippet,
    })),
    total: Number(count.n),
  };
}

/**
 * Queues the route's posts received in [from, to) again (attempts back to 0); posts already
 * waiting are left as they are and not counted. Refuses, changing nothing, when more than `max` match.
 */
export async function replayPosts(
  trx: Db,
  serverId: number,
  routeId: number,
  range: { from: number; to: number; max: number },
  now: number,
): Promise<{ ok: true; queued: number } | { ok: false; matching: number }> {
  const matching = trx
    .selectFrom('inbound_posts')
    .where('route_id', '=', routeId)
    .where('server_id', '=', serverId)
    .where('created_at', '>=', range.from)
    .where('created_at', '<', range.to)
    .where('status', 'not in', UNDELIVERED);
  const n = Number((await matching.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  if (n > range.max) return { ok: false, matching: n };
  if (n === 0) return { ok: true, queued: 0 };
  const res = await trx
    .updateTable('inbound_posts')
    .set({
      status: 'pending',
      attempts: 0,
      next_attempt_at: now,
      locked_by: null,
      locked_at: null,
      updated_at: now,
      last_error: sql<null>`NULL`,
    })
    .where('route_id', '=', routeId)
    .where('server_id', '=', serverId)
    .where('created_at', '>=', range.from)
    .where('created_at', '<', range.to)
    .where('status', 'not in', UNDELIVERED)
    .executeTakeFirst();
  return { ok: true, queued: Number(res.numUpdatedRows) };
}

/** Inbound routes, the messages received for them and the posts of those to the routes' endpoints. */
export interface InboundRepository {
  /**
   * Inbound routing (src/inbound/). A route is a server's claim on a domain or an address; a match
   * is routed by at most one route in the whole instance. Route calls take the serverId.
   */
  /** undefined when the match is already routed (by this or another server); nothing is written then. */
  createRoute(input: NewInboundRoute, now: number): Promise<InboundRoute | undefined>;
  getRoute(serverId: number, id: number): Promise<InboundRoute | undefined>;
  listRoutes(serverId: number, page: PageRequest): Promise<{ rows: InboundRoute[]; total: number }>;
  updateRoute(serverId: number, id: number, patch: InboundRoutePatch, now: number): Promise<InboundRoute | undefined>;
  /** Deletes the route, its posts and attempts, and the messages no other route wants. */
  deleteRoute(serverId: number, id: number): Promise<boolean>;
  /** Every route of every server, for the MX listener's RCPT decisions. */
  routingTable(): Promise<InboundRouteEntry[]>;
  /** Stores received messages (each one's bytes once) and their posts in one transaction (group commit). */
  commitMessages(messages: readonly NewInboundMessage[]): Promise<void>;
  /**
   * Claims up to `limit` due posts of enabled routes for workerId, `lanes` per route; with
   * deadBefore also the claims of dead workers (see inbound.ts claimPostIds).
   */
  claimPosts(workerId: string, limit: number, now: number, staleBefore: number, lanes?: ClaimLanes, deadBefore?: number): Promise<InboundWork[]>;
  messageRaw(messageId: string): Promise<Buffer | undefined>;
  /** Stores one chunk of a large inbound message's bytes ahead of commitMessages (with bodyStored), in its own transaction. */
  putBodyChunk(messageId: string, seq: number, content: Buffer, now: number): Promise<void>;
  /** Removes the chunks of a message whose commit failed. */
  deleteBody(messageId: string): Promise<void>;
  /** Removes chunks older than `before` that belong to no committed message; returns how many. */
  sweepOrphanBodies(before: number): Promise<number>;
  /** Records attempts and the posts' next state in one transaction; only rows still locked by workerId. */
  recordAttempts(workerId: string, records: readonly InboundAttemptRecord[], now: number): Promise<number>;
  releasePosts(workerId: string, postIds: readonly number[]): Promise<void>;
  listPosts(serverId: number, routeId: number, page: PageRequest): Promise<{ rows: InboundPostView[]; total: number }>;
  getPost(serverId: number, routeId: number, postId: number): Promise<InboundPostView | undefined>;
  listAttempts(serverId: number, routeId: number, postId: number, page: PageRequest): Promise<{ rows: InboundAttempt[]; total: number }>;
  replayPosts(
    serverId: number,
    routeId: number,
    range: { from: number; to: number; max: number },
    now: number,
  ): Promise<{ ok: true; queued: number } | { ok: false; matching: number }>;
}

/** Inbound for both dialects. */
export class SqlInboundRepository implements InboundRepository {
  constructor(
    protected readonly db: Kysely<Database>,
    private readonly kind: 'sqlite' | 'postgres',
  ) {}

  createRoute(input: NewInboundRoute, now: number): Promise<InboundRoute | undefined> {
    return createRoute(this.db, input, now);
  }

  getRoute(serverId: number, id: number): Promise<InboundRoute | undefined> {
    return getRoute(this.db, serverId, id);
  }

  listRoutes(serverId: number, page: PageRequest): Promise<{ rows: InboundRoute[]; total: number }> {
    return listRoutes(this.db, serverId, page);
  }

  updateRoute(serverId: number, id: number, patch: InboundRoutePatch, now: number): Promise<InboundRoute | undefined> {
    return updateRoute(this.db, serverId, id, patch, now);
  }

  deleteRoute(serverId: number, id: number): Promise<boolean> {
    return this.db.transaction().execute((trx) => deleteRoute(trx, serverId, id));
  }

  routingTable(): Promise<InboundRouteEntry[]> {
    return routingTable(this.db);
  }

  async commitMessages(messages: readonly NewInboundMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      for (const m of messages) await insertMessage(trx, m);
    });
  }

  async claimPosts(workerId: string, limit: number, now: number, staleBefore: number, lanes?: ClaimLanes, deadBefore?: number): Promise<InboundWork[]> {
    const ids = await this.db
      .transaction()
      .execute((trx) => claimPostIds(trx, this.kind, workerId, limit, now, staleBefore, lanesOrDefault(lanes, limit), deadBefore));
    return loadWork(this.db, ids);
  }

  messageRaw(messageId: string): Promise<Buffer | undefined> {
    return rawOf(this.db, messageId);
  }

  putBodyChunk(messageId: string, seq: number, content: Buffer, now: number): Promise<void> {
    return putBodyChunk(this.db, messageId, seq, content, now);
  }

  deleteBody(messageId: string): Promise<void> {
    return deleteBody(this.db, messageId);
  }

  sweepOrphanBodies(before: number): Promise<number> {
    return sweepOrphanBodies(this.db, before);
  }

  async recordAttempts(workerId: string, records: readonly InboundAttemptRecord[], now: number): Promise<number> {
    if (records.length === 0) return 0;
    return this.db.transaction().execute((trx) => recordAttempts(trx, workerId, records, now));
  }

  releasePosts(workerId: string, postIds: readonly number[]): Promise<void> {
    return releasePosts(this.db, workerId, postIds);
  }

  listPosts(serverId: number, routeId: number, page: PageRequest): Promise<{ rows: InboundPostView[]; total: number }> {
    return listPosts(this.db, serverId, routeId, page);
  }

  getPost(serverId: number, routeId: number, postId: number): Promise<InboundPostView | undefined> {
    return getPost(this.db, serverId, routeId, postId);
  }

  listAttempts(serverId: number, routeId: number, postId: number, page: PageRequest): Promise<{ rows: InboundAttempt[]; total: number }> {
    return listAttempts(this.db, serverId, routeId, postId, page);
  }

  replayPosts(
    serverId: number,
    routeId: number,
    range: { from: number; to: number; max: number },
    now: number,
  ): Promise<{ ok: true; queued: number } | { ok: false; matching: number }> {
    return this.db.transaction().execute((trx) => replayPosts(trx, serverId, routeId, range, now));
  }
}
