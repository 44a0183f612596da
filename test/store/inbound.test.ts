import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';
import type { Store } from '../../src/store/store.js';
import { INBOUND_BODY_CHUNK_BYTES, type InboundAttemptRecord, type InboundRoute, type InboundRouteKind, type InboundWork } from '../../src/store/inbound.js';
import { newId } from '../../src/core/ids.js';

/** The inbound area of the Store (routes, received messages, posts, attempts), the same assertions on SQLite and PostgreSQL. */
describe(`inbound in the store (${TEST_STORE_KIND})`, () => {
  let db: TestDb;
  let store: Store;
  let accountId: number;
  let a: number;
  let b: number;
  const now = 1_700_000_000_000;
  const MIN = 60_000;
  /** Routes made by the running test: disabled after it, so a later test's claims see only its own posts. */
  const made: InboundRoute[] = [];

  const newServer = async (name: string) => (await store.tenancy.createServer({ accountId, name }, now)).id;
  const route = async (serverId: number, match: string, kind: InboundRouteKind = 'domain', at = now) => {
    const r = await store.inbound.createRoute(
      {
        serverId,
        match,
        kind,
        url: `https://hooks.example/${match}`,
        secretKey: `sk-${match}`,
        signingSecret: `whsec-${match}`,
        enabled: true,
        validatedAt: null,
      },
      at,
    );
    if (!r) throw new Error(`route ${match} was refused`);
    made.push(r);
    return r;
  };
  /** One received message posted to each of `to`; its id. */
  const receive = async (receivedAt: number, to: readonly InboundRoute[], raw = Buffer.from(`Subject: at ${receivedAt}\r\n\r\nhello\r\n`)) => {
    const id = newId(receivedAt);
    await store.inbound.commitMessages([
      {
        id,
        mailFrom: 'sender@outside.example',
        remoteIp: '192.0.2.7',
        helo: 'mx.outside.example',
        receivedAt,
        raw,
        posts: to.map((r) => ({ routeId: r.id, serverId: r.serverId, rcptTo: `desk@${r.match.replace(/^.*@/, '')}` })),
      },
    ]);
    return id;
  };
  const page = (limit = 100, offset = 0, direction: 'asc' | 'desc' = 'asc') => ({ limit, offset, direction });
  const posts = async (r: InboundRoute) => (await store.inbound.listPosts(r.serverId, r.id, page())).rows;
  const attempt = (
    w: InboundWork,
    next: InboundAttemptRecord['next'],
    httpStatus: number | null = next.status === 'delivered' ? 200 : 500,
  ): InboundAttemptRecord => ({
    postId: w.postId,
    routeId: w.route.id,
    ok: next.status === 'delivered',
    httpStatus,
    durationMs: 12,
    error: next.status === 'delivered' ? null : `HTTP ${httpStatus}`,
    responseSnippet: next.status === 'delivered' ? 'ok' : 'busy',
    next,
  });
  const countBy = (claimed: readonly InboundWork[]) => {
    const n = new Map<number, number>();
    for (const w of claimed) n.set(w.route.id, (n.get(w.route.id) ?? 0) + 1);
    return n;
  };

  beforeAll(async () => {
    db = await createTestDb();
    store = await db.open();
    accountId = (await store.tenancy.createAccount('A', now)).id;
    a = await newServer('A');
    b = await newServer('B');
  });
  afterEach(async () => {
    for (const r of made.splice(0)) await store.inbound.updateRoute(r.serverId, r.id, { enabled: false }, now);
  });
  afterAll(async () => {
    await store.close();
    await db.drop();
  });

  it('creates a route lower-cased; a match already routed, in any case and by any server, is refused and writes nothing', async () => {
    const r = await route(a, 'Support@Desk-One.example', 'address');
    expect(r).toEqual({
      id: expect.any(Number),
      serverId: a,
      match: 'support@desk-one.example',
      kind: 'address',
      url: 'https://hooks.example/Support@Desk-One.example',
      secretKey: 'sk-Support@Desk-One.example',
      signingSecrets: ['whsec-Support@Desk-One.example'],
      secretsRotatedAt: null,
      enabled: true,
      createdAt: now,
      updatedAt: now,
      validatedAt: null,
    });
    const again = (serverId: number, match: string, kind: InboundRouteKind = 'address') =>
      store.inbound.createRoute(
        { serverId, match, kind, url: 'https://evil.example/', secretKey: 'x', signingSecret: 'y', enabled: true, validatedAt: now },
        now,
      );
    expect(await again(b, 'support@desk-one.example')).toBeUndefined();
    expect(await again(a, 'SUPPORT@DESK-ONE.EXAMPLE')).toBeUndefined();
    // The domain is a match of its own: routing it does not collide with an address in it.
    const domain = await route(b, 'DESK-ONE.example');
    expect(domain).toMatchObject({ serverId: b, match: 'desk-one.example', kind: 'domain' });
    expect(await again(a, 'desk-one.EXAMPLE', 'domain')).toBeUndefined();
    expect(await store.inbound.getRoute(b, domain.id)).toEqual(domain);

    const table = (await store.inbound.routingTable()).filter((e) => e.match.endsWith('desk-one.example'));
    expect(table.sort((x, y) => x.id - y.id)).toEqual([
      { id: r.id, serverId: a, match: 'support@desk-one.example', kind: 'address', enabled: true },
      { id: domain.id, serverId: b, match: 'desk-one.example', kind: 'domain', enabled: true },
    ]);
    expect((await store.inbound.getRoute(a, r.id))!.url).toBe(r.url);
    expect((await store.inbound.listRoutes(b, page())).rows.map((x) => x.id)).not.toContain(r.id);
  });

  it('lists a server’s routes oldest or newest first with paging and a total; get, update and delete never reach another server’s route', async () => {
    const s = await newServer('routes');
    // Two routes share a creation time: the id settles their order.
    const mine: InboundRoute[] = [];
    for (const [i, at] of [now + 1, now + 2, now + 2, now + 3, now + 4].entries()) mine.push(await route(s, `r${i}.list.example`, 'domain', at));
    const theirs = await route(b, 'theirs.list.example');
    const ids = mine.map((r) => r.id);
    const listed = async (p: ReturnType<typeof page>) => {
      const res = await store.inbound.listRoutes(s, p);
      return [res.rows.map((r) => r.id), res.total];
    };
    expect(await listed(page())).toEqual([ids, 5]);
    expect(await listed(page(100, 0, 'desc'))).toEqual([[...ids].reverse(), 5]);
    expect(await listed(page(2, 1))).toEqual([ids.slice(1, 3), 5]);
    expect(await listed(page(2, 4, 'desc'))).toEqual([[ids[0]], 5]);
    expect(await listed(page(2, 5))).toEqual([[], 5]);

    expect(await store.inbound.getRoute(s, theirs.id)).toBeUndefined();
    expect(await store.inbound.getRoute(s, 987_654)).toBeUndefined();
    expect(await store.inbound.updateRoute(s, theirs.id, { url: 'https://evil.example/', enabled: false }, now + 9)).toBeUndefined();
    expect(await store.inbound.deleteRoute(s, theirs.id)).toBe(false);
    expect(await store.inbound.getRoute(b, theirs.id)).toEqual(theirs);

    const patched = await store.inbound.updateRoute(
      s,
      mine[0]!.id,
      { url: 'https://new.example/hook', enabled: false, validatedAt: now + 7, signingSecrets: ['whsec-new', 'whsec-old'], secretsRotatedAt: now + 8 },
      now + 10,
    );
    expect(patched).toEqual({
      ...mine[0],
      url: 'https://new.example/hook',
      enabled: false,
      validatedAt: now + 7,
      signingSecrets: ['whsec-new', 'whsec-old'],
      secretsRotatedAt: now + 8,
      updatedAt: now + 10,
    });
    // A patch names only what changes: the rest stays as it was.
    expect(await store.inbound.updateRoute(s, mine[0]!.id, { enabled: true }, now + 11)).toEqual({ ...patched, enabled: true, updatedAt: now + 11 });
    expect(await store.inbound.getRoute(s, mine[0]!.id)).toEqual({ ...patched, enabled: true, updatedAt: now + 11 });
    expect((await store.inbound.routingTable()).find((e) => e.id === mine[1]!.id)).toEqual({
      id: mine[1]!.id,
      serverId: s,
      match: 'r1.list.example',
      kind: 'domain',
      enabled: true,
    });
  });

  it('stores each message’s bytes once with one pending post per routed recipient, 8-bit bytes exactly', async () => {
    const r1 = await route(a, 'one.store.example');
    const r2 = await route(a, 'two.store.example');
    // Every byte value, a Latin-1 word and a bare CR: nothing may be re-encoded on the way.
    const raw = Buffer.concat([
      Buffer.from('Subject: caf\xe9\r\n\r\n', 'latin1'),
      Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
      Buffer.from('\r\rend'),
    ]);
    const id = newId(now + 5);
    await store.inbound.commitMessages([
      {
        id,
        mailFrom: 'x@outside.example',
        remoteIp: '198.51.100.1',
        helo: null,
        receivedAt: now + 5,
        raw,
        posts: [
          { routeId: r1.id, serverId: a, rcptTo: 'desk@one.store.example' },
          { routeId: r2.id, serverId: a, rcptTo: 'Help@two.store.example' },
        ],
      },
    ]);
    expect((await store.inbound.messageRaw(id))!.equals(raw)).toBe(true);
    const view = (await posts(r1))[0]!;
    expect(view).toEqual({
      id: expect.any(Number),
      messageId: id,
      routeId: r1.id,
      rcptTo: 'desk@one.store.example',
      mailFrom: 'x@outside.example',
      sizeBytes: raw.length,
      receivedAt: now + 5,
      status: 'pending',
      attempts: 0,
      nextAttemptAt: now + 5,
      lastStatus: null,
      lastError: null,
    });
    expect((await posts(r2)).map((p) => [p.messageId, p.rcptTo])).toEqual([[id, 'Help@two.store.example']]);
    expect(await store.inbound.getPost(a, r1.id, view.id)).toEqual(view);
    expect(await store.inbound.messageRaw('NO-SUCH-MESSAGE')).toBeUndefined();
    await store.inbound.commitMessages([]);
  });

  it('commits a batch of messages all or nothing: one bad message leaves none of the batch behind', async () => {
    const r = await route(a, 'batch.store.example');
    const first = await receive(now + 1, [r]);
    const fresh = newId(now + 2);
    const message = (id: string) => ({ id, mailFrom: 'x@outside.example', remoteIp: '192.0.2.1', helo: null, receivedAt: now + 2, raw: Buffer.from('x') });
    // The second message reuses the first one's id: the batch's transaction fails on it.
    await expect(
      store.inbound.commitMessages([
        { ...message(fresh), posts: [{ routeId: r.id, serverId: a, rcptTo: 'new@batch.store.example' }] },
        { ...message(first), posts: [{ routeId: r.id, serverId: a, rcptTo: 'dup@batch.store.example' }] },
      ]),
    ).rejects.toThrow();
    expect(await store.inbound.messageRaw(fresh)).toBeUndefined();
    expect((await posts(r)).map((p) => p.messageId)).toEqual([first]);
  });

  it('reassembles a message stored in chunks ahead of its commit byte for byte, also an exact multiple of the chunk size', async () => {
    const r = await route(a, 'big.store.example');
    // Deterministic bytes of every value, so a chunk out of place or cut short shows.
    const bytes = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 131 + seed * 7 + (i >> 11)) & 255));
    for (const [size, seed] of [
      [Math.floor(INBOUND_BODY_CHUNK_BYTES * 2.5), 1],
      [INBOUND_BODY_CHUNK_BYTES * 2, 2],
    ] as const) {
      const raw = bytes(size, seed);
      const id = newId(now + seed);
      for (let seq = 0, at = 0; at < raw.length; seq++, at += INBOUND_BODY_CHUNK_BYTES) {
        await store.inbound.putBodyChunk(id, seq, raw.subarray(at, at + INBOUND_BODY_CHUNK_BYTES), now + seed);
      }
      await store.inbound.commitMessages([
        {
          id,
          mailFrom: 'big@outside.example',
          remoteIp: '192.0.2.2',
          helo: 'h',
          receivedAt: now + seed,
          raw,
          bodyStored: true,
          posts: [{ routeId: r.id, serverId: a, rcptTo: 'x@big.store.example' }],
        },
      ]);
      const back = (await store.inbound.messageRaw(id))!;
      expect(back.length).toBe(size);
      expect(back.equals(raw)).toBe(true);
      expect((await posts(r)).find((p) => p.messageId === id)!.sizeBytes).toBe(size);
    }
    // A failed accept's chunks go with deleteBody, before any commit.
    const failed = newId(now);
    await store.inbound.putBodyChunk(failed, 0, bytes(INBOUND_BODY_CHUNK_BYTES, 3), now);
    await store.inbound.putBodyChunk(failed, 1, bytes(10, 4), now);
    expect((await store.inbound.messageRaw(failed))!.length).toBe(INBOUND_BODY_CHUNK_BYTES + 10);
    await store.inbound.deleteBody(failed);
    expect(await store.inbound.messageRaw(failed)).toBeUndefined();
  });

  it('sweeps only chunks older than the cut-off that belong to no committed message', async () => {
    const r = await route(a, 'sweep.store.example');
    // Older than anything the other tests write, so their rows are never in the sweep's range.
    const t0 = now - 30 * 24 * 60 * MIN;
    const oldOrphan = newId(t0);
    const newOrphan = newId(t0 + 1_000);
    const kept = newId(t0);
    for (const seq of [0, 1]) await store.inbound.putBodyChunk(oldOrphan, seq, Buffer.alloc(seq === 0 ? INBOUND_BODY_CHUNK_BYTES : 5, 1), t0);
    await store.inbound.putBodyChunk(newOrphan, 0, Buffer.from('recent'), t0 + 1_000);
    await store.inbound.putBodyChunk(kept, 0, Buffer.from('committed'), t0);
    await store.inbound.commitMessages([
      {
        id: kept,
        mailFrom: 'k@outside.example',
        remoteIp: '192.0.2.3',
        helo: null,
        receivedAt: t0,
        raw: Buffer.from('committed'),
        bodyStored: true,
        posts: [{ routeId: r.id, serverId: a, rcptTo: 'k@sweep.store.example' }],
      },
    ]);
    expect(await store.inbound.sweepOrphanBodies(t0 + 500)).toBe(2);
    expect(await store.inbound.messageRaw(oldOrphan)).toBeUndefined();
    expect((await store.inbound.messageRaw(newOrphan))!.toString()).toBe('recent');
    expect(await store.inbound.sweepOrphanBodies(t0 + 500)).toBe(0);
    expect(await store.inbound.sweepOrphanBodies(t0 + 2_000)).toBe(1);
    expect(await store.inbound.messageRaw(newOrphan)).toBeUndefined();
    expect((await store.inbound.messageRaw(kept))!.toString()).toBe('committed');
  });

  it('claims due posts of enabled routes, each route a lane: one route’s backlog cannot fill the claim', async () => {
    const busy = await route(a, 'busy.claim.example');
    const quiet = await route(b, 'quiet.claim.example');
    const lone = await route(a, 'lone.claim.example');
    const off = await route(a, 'off.claim.example');
    // The backlog is older than the other routes' posts: oldest-first alone would take only it.
    for (let i = 0; i < 8; i++) await receive(now + i, [busy]);
    for (let i = 0; i < 3; i++) await receive(now + 100 + i, [quiet]);
    const loneMessage = await receive(now + 200, [lone]);
    await receive(now, [off]);
    await store.inbound.updateRoute(a, off.id, { enabled: false }, now);
    await receive(now + 10 * MIN, [lone]); // not due yet
    const at = now + MIN;
    const lanes = (perLane: number, held: [number, number][] = []) => ({ perLane, held: new Map(held) });

    const first = await store.inbound.claimPosts('w1', 10, at, at - 5 * MIN, lanes(2));
    expect(countBy(first)).toEqual(
      new Map([
        [busy.id, 2],
        [quiet.id, 2],
        [lone.id, 1],
      ]),
    );
    const w = first.find((x) => x.route.id === lone.id)!;
    expect(w).toEqual({
      postId: expect.any(Number),
      attempts: 0,
      route: { ...lone, enabled: true },
      message: {
        id: loneMessage,
        mailFrom: 'sender@outside.example',
        rcptTo: 'desk@lone.claim.example',
        remoteIp: '192.0.2.7',
        helo: 'mx.outside.example',
        sizeBytes: expect.any(Number),
        receivedAt: now + 200,
      },
    });
    // The busy lane gave its two oldest posts.
    const busyPosts = await posts(busy);
    expect(first.filter((x) => x.route.id === busy.id).map((x) => x.postId)).toEqual(busyPosts.slice(0, 2).map((p) => p.id));

    // What the process already holds counts against each lane's room; a full lane is skipped.
    const second = await store.inbound.claimPosts(
      'w1',
      10,
      at,
      at - 5 * MIN,
      lanes(3, [
        [busy.id, 2],
        [quiet.id, 3],
      ]),
    );
    expect(countBy(second)).toEqual(new Map([[busy.id, 1]]));
    // A claim's limit bounds it across lanes too (the oldest due first); another worker never gets a post that is held.
    const third = await store.inbound.claimPosts('w2', 3, at, at - 5 * MIN, lanes(4));
    expect(countBy(third)).toEqual(new Map([[busy.id, 3]]));
    // Without lanes a claim is one lane as wide as itself: the rest, none of the disabled route's or the future one.
    const rest = await store.inbound.claimPosts('w3', 50, at, at - 5 * MIN);
    expect(countBy(rest)).toEqual(
      new Map([
        [busy.id, 2],
        [quiet.id, 1],
      ]),
    );
    const all = [...first, ...second, ...third, ...rest].map((x) => x.postId);
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBe(8 + 3 + 1);
    expect(await store.inbound.claimPosts('w3', 50, at, at - 5 * MIN)).toEqual([]);
    // The future post is due once its time comes.
    expect((await store.inbound.claimPosts('w3', 50, now + 10 * MIN, at - 5 * MIN)).map((x) => x.route.id)).toEqual([lone.id]);
    expect((await posts(off))[0]).toMatchObject({ status: 'pending', attempts: 0 });
  });

  it('records attempts and releases posts only for the worker that still holds them; a stale claim is taken over', async () => {
    const r = await route(a, 'owner.claim.example');
    for (let i = 0; i < 3; i++) await receive(now + i, [r]);
    const t1 = now + MIN;
    const mine = await store.inbound.claimPosts('w1', 10, t1, t1 - 5 * MIN);
    expect(mine).toHaveLength(3);
    // Not stale yet: nobody else gets them.
    expect(await store.inbound.claimPosts('w2', 10, t1 + MIN, t1 - 1)).toEqual([]);
    // Stale (claimed before staleBefore): w2 takes all three over.
    const t2 = t1 + 10 * MIN;
    const taken = await store.inbound.claimPosts('w2', 10, t2, t1 + 1);
    expect(taken.map((x) => x.postId).sort()).toEqual(mine.map((x) => x.postId).sort());
    const [p1, p2, p3] = taken.sort((x, y) => x.postId - y.postId) as [InboundWork, InboundWork, InboundWork];

    // The previous owner's late result and release change nothing.
    expect(await store.inbound.recordAttempts('w1', [attempt(p1, { status: 'delivered', attempts: 1, nextAttemptAt: t2 })], t2)).toBe(0);
    await store.inbound.releasePosts('w1', [p3.postId]);
    expect((await store.inbound.listAttempts(a, r.id, p1.postId, page())).total).toBe(0);
    expect(await store.inbound.claimPosts('w3', 10, t2, t1 + 1)).toEqual([]);

    expect(
      await store.inbound.recordAttempts(
        'w2',
        [
          attempt(p1, { status: 'failed', attempts: 1, nextAttemptAt: t2 + 5 * MIN }, 503),
          attempt(p2, { status: 'delivered', attempts: 1, nextAttemptAt: t2 }),
        ],
        t2 + 1,
      ),
    ).toBe(2);
    expect(await store.inbound.recordAttempts('w2', [], t2)).toBe(0);
    expect(await store.inbound.getPost(a, r.id, p1.postId)).toMatchObject({
      status: 'failed',
      attempts: 1,
      nextAttemptAt: t2 + 5 * MIN,
      lastStatus: 503,
      lastError: 'HTTP 503',
    });
    expect(await store.inbound.getPost(a, r.id, p2.postId)).toMatchObject({
      status: 'delivered',
      attempts: 1,
      nextAttemptAt: null,
      lastStatus: 200,
      lastError: null,
    });
    expect(await store.inbound.listAttempts(a, r.id, p1.postId, page())).toEqual({
      rows: [{ id: expect.any(Number), postId: p1.postId, at: t2 + 1, ok: false, httpStatus: 503, durationMs: 12, error: 'HTTP 503', responseSnippet: 'busy' }],
      total: 1,
    });
    // The owner's release hands p3 back at once.
    await store.inbound.releasePosts('w2', [p3.postId]);
    const again = await store.inbound.claimPosts('w3', 10, t2 + 2, t1 + 1);
    expect(again.map((x) => x.postId)).toEqual([p3.postId]);
    expect(await store.inbound.recordAttempts('w3', [attempt(again[0]!, { status: 'delivered', attempts: 1, nextAttemptAt: t2 + 2 })], t2 + 3)).toBe(1);
    // A failed post is due again at its next attempt time, not before; a delivered one never.
    expect(await store.inbound.claimPosts('w4', 10, t2 + 5 * MIN - 1, t1 + 1)).toEqual([]);
    const retry = await store.inbound.claimPosts('w4', 10, t2 + 5 * MIN, t1 + 1);
    expect(retry.map((x) => [x.postId, x.attempts])).toEqual([[p1.postId, 1]]);
    expect(
      await store.inbound.recordAttempts('w4', [attempt(retry[0]!, { status: 'gave_up', attempts: 2, nextAttemptAt: t2 + 5 * MIN })], t2 + 5 * MIN + 1),
    ).toBe(1);
    const ats = async (p: ReturnType<typeof page>) => (await store.inbound.listAttempts(a, r.id, p1.postId, p)).rows.map((x) => x.at);
    expect(await ats(page())).toEqual([t2 + 1, t2 + 5 * MIN + 1]);
    expect(await ats(page(100, 0, 'desc'))).toEqual([t2 + 5 * MIN + 1, t2 + 1]);
    expect(await ats(page(1, 1))).toEqual([t2 + 5 * MIN + 1]);
    expect(await store.inbound.getPost(a, r.id, p1.postId)).toMatchObject({ status: 'gave_up', attempts: 2, nextAttemptAt: null });
    expect(await store.inbound.claimPosts('w5', 10, t2 + 60 * MIN, t2 + 59 * MIN)).toEqual([]);
  });

  it('lists a route’s posts with paging and a total; posts and attempts are found only under their own server and route', async () => {
    const r = await route(a, 'list.posts.example');
    const other = await route(a, 'other.posts.example');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await receive(now + 10 * i, [r]));
    const listed = async (p: ReturnType<typeof page>, serverId = a, routeId = r.id) => {
      const res = await store.inbound.listPosts(serverId, routeId, p);
      return [res.rows.map((x) => x.messageId), res.total];
    };
    expect(await listed(page())).toEqual([ids, 5]);
    expect(await listed(page(100, 0, 'desc'))).toEqual([[...ids].reverse(), 5]);
    expect(await listed(page(2, 2))).toEqual([ids.slice(2, 4), 5]);
    expect(await listed(page(2, 1, 'desc'))).toEqual([[ids[3], ids[2]], 5]);
    expect(await listed(page(), b)).toEqual([[], 0]);
    expect(await listed(page(), a, other.id)).toEqual([[], 0]);

    const [w] = await store.inbound.claimPosts('w', 1, now + 1_000, now);
    expect(w!.route.id).toBe(r.id);
    await store.inbound.recordAttempts('w', [attempt(w!, { status: 'failed', attempts: 1, nextAttemptAt: now + 2_000 })], now + 1_000);
    expect((await store.inbound.listAttempts(a, r.id, w!.postId, page())).total).toBe(1);
    for (const [serverId, routeId] of [
      [b, r.id],
      [a, other.id],
    ] as const) {
      expect(await store.inbound.getPost(serverId, routeId, w!.postId)).toBeUndefined();
      expect(await store.inbound.listAttempts(serverId, routeId, w!.postId, page())).toEqual({ rows: [], total: 0 });
    }
    expect(await store.inbound.getPost(a, r.id, 987_654)).toBeUndefined();
  });

  it('replays the finished posts received in [from, to): refuses over max with the number matching, changing nothing; waiting posts are left alone', async () => {
    const r = await route(a, 'replay.example');
    for (let i = 0; i < 5; i++) await receive(now + i, [r]);
    const claimed = (await store.inbound.claimPosts('w', 10, now + MIN, now)).sort((x, y) => x.postId - y.postId);
    const [d0, g1, f2, d3, p4] = claimed as [InboundWork, InboundWork, InboundWork, InboundWork, InboundWork];
    await store.inbound.recordAttempts(
      'w',
      [
        attempt(d0, { status: 'delivered', attempts: 1, nextAttemptAt: now + MIN }),
        attempt(g1, { status: 'gave_up', attempts: 5, nextAttemptAt: now + MIN }),
        attempt(f2, { status: 'failed', attempts: 1, nextAttemptAt: now + 60 * MIN }),
        attempt(d3, { status: 'delivered', attempts: 1, nextAttemptAt: now + MIN }),
      ],
      now + MIN,
    );
    await store.inbound.releasePosts('w', [p4.postId]);
    const before = await posts(r);
    const range = (max: number) => ({ from: now, to: now + 3, max });

    // d0 and g1 match; f2 is still waiting, d3 and p4 were received at or after `to`.
    expect(await store.inbound.replayPosts(a, r.id, range(1), now + 2 * MIN)).toEqual({ ok: false, matching: 2 });
    expect(await store.inbound.replayPosts(b, r.id, range(10), now + 2 * MIN)).toEqual({ ok: true, queued: 0 });
    expect(await posts(r)).toEqual(before);

    expect(await store.inbound.replayPosts(a, r.id, range(2), now + 2 * MIN)).toEqual({ ok: true, queued: 2 });
    const after = await posts(r);
    for (const p of [d0, g1]) {
      expect(after.find((x) => x.id === p.postId)).toMatchObject({ status: 'pending', attempts: 0, nextAttemptAt: now + 2 * MIN, lastError: null });
    }
    for (const p of [f2, d3, p4]) expect(after.find((x) => x.id === p.postId)).toEqual(before.find((x) => x.id === p.postId));
    // Their attempts stay in the history; the replayed posts are due at once.
    expect((await store.inbound.listAttempts(a, r.id, g1.postId, page())).total).toBe(1);
    expect((await store.inbound.claimPosts('w2', 10, now + 2 * MIN, now)).map((x) => x.postId).sort()).toEqual([d0.postId, g1.postId, p4.postId].sort());
    expect(await store.inbound.replayPosts(a, r.id, range(0), now + 3 * MIN)).toEqual({ ok: true, queued: 0 });
  });

  it('deletes a route with its posts and attempts, and the messages and bytes no other route wants', async () => {
    const s = await newServer('delete');
    const gone = await route(s, 'gone@del.example', 'address');
    const stays = await route(s, 'del.example');
    const only = await receive(now, [gone]);
    const shared = await receive(now + 1, [gone, stays]);
    const [w] = await store.inbound.claimPosts('w', 1, now + MIN, now);
    expect(w!.route.id).toBe(gone.id);
    await store.inbound.recordAttempts('w', [attempt(w!, { status: 'failed', attempts: 1, nextAttemptAt: now + 2 * MIN })], now + MIN);

    expect(await store.inbound.deleteRoute(b, gone.id)).toBe(false);
    expect(await store.inbound.deleteRoute(s, gone.id)).toBe(true);
    expect(await store.inbound.getRoute(s, gone.id)).toBeUndefined();
    expect(await store.inbound.listPosts(s, gone.id, page())).toEqual({ rows: [], total: 0 });
    expect(await store.inbound.listAttempts(s, gone.id, w!.postId, page())).toEqual({ rows: [], total: 0 });
    expect((await store.inbound.routingTable()).some((e) => e.id === gone.id)).toBe(false);
    expect(await store.inbound.messageRaw(only)).toBeUndefined();
    expect(await store.inbound.messageRaw(shared)).toBeDefined();
    expect((await posts(stays)).map((p) => p.messageId)).toEqual([shared]);
    expect(await store.inbound.deleteRoute(s, gone.id)).toBe(false);
    // The match is free again once its route is gone.
    expect(await route(b, 'GONE@del.example', 'address')).toMatchObject({ serverId: b, match: 'gone@del.example' });
  });
});
