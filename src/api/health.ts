import type { FastifyInstance } from 'fastify';
import type { Store } from '../store/store.js';
import { DISK_FULL_PROBE_BYTES, type StorageHealth } from '../store/disk-full.js';

/** The settings row /readyz writes while the disk is full, to learn when writes work again. */
export const READYZ_PROBE_SETTING = 'readyz.write_probe';

const statusOnly = { type: 'object', required: ['status'], properties: { status: { type: 'string' } } } as const;

/**
 * /healthz: the process answers. /readyz: it can reach its store, the store's disk takes writes
 * (while it is known full, each call probes with a write of DISK_FULL_PROBE_BYTES: traffic may
 * have stopped, so nothing else would notice space coming back), and it is not shutting down.
 */
export function registerHealthRoutes(app: FastifyInstance, store: Store, isStopping: () => boolean, storage?: StorageHealth): void {
  app.get('/healthz', {
    schema: {
      summary: 'Liveness: the process answers', tags: ['operations'],
      response: { 200: { ...statusOnly, description: '{"status":"ok"}' } },
    },
  }, async () => ({ status: 'ok' }));
  app.get('/readyz', {
    schema: {
      summary: 'Readiness: the store is reachable and the process is not shutting down', tags: ['operations'],
      response: {
        200: { type: 'object', required: ['status', 'store'], description: 'ready', properties: { status: { type: 'string', enum: ['ready'] }, store: { type: 'string', enum: ['sqlite', 'postgres'] } } },
        503: {
          type: 'object', required: ['status'], description: 'stopping, the store cannot be reached, or its disk is full (reason disk_full)',
          properties: { status: { type: 'string', enum: ['stopping', 'unavailable'] }, reason: { type: 'string', enum: ['disk_full'] }, error: { type: 'string' } },
        },
      },
    },
  }, async (_req, reply) => {
    if (isStopping()) return reply.code(503).send({ status: 'stopping' });
    try {
      if (storage?.diskFull) {
        try {
          // The headroom, then a short value: its pages are free again for the accepts that follow.
          await store.setSetting(READYZ_PROBE_SETTING, 'x'.repeat(DISK_FULL_PROBE_BYTES));
          await store.setSetting(READYZ_PROBE_SETTING, String(Date.now()));
          storage.recovered();
        } catch (err) {
          if (storage.failed(err, 'readyz')) return reply.code(503).send({ status: 'unavailable', reason: 'disk_full', error: (err as Error).message });
          throw err;
        }
      }
      await store.getSetting('readyz');
      return { status: 'ready', store: store.kind };
    } catch (err) {
      return reply.code(503).send({ status: 'unavailable', error: (err as Error).message });
    }
  });
}
