import type { FastifyInstance } from 'fastify';
import type { Store } from '../store/store.js';
import type { StorageHealth } from '../store/disk-full.js';

const statusOnly = { type: 'object', required: ['status'], properties: { status: { type: 'string' } } } as const;

/**
 * /healthz: the process answers. /readyz: it can reach its store, the store's disk takes writes
 * (while it is known full, each call probes with a write of DISK_FULL_PROBE_BYTES, as the
 * periodic probe does), and it is not shutting down.
 */
export function registerHealthRoutes(app: FastifyInstance, store: Store, isStopping: () => boolean, storage?: StorageHealth): void {
  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Liveness: the process answers',
        tags: ['operations'],
        response: { 200: { ...statusOnly, description: '{"status":"ok"}' } },
      },
    },
    async () => ({ status: 'ok' }),
  );
  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Readiness: the store is reachable and the process is not shutting down',
        tags: ['operations'],
        response: {
          200: {
            type: 'object',
            required: ['status', 'store'],
            description: 'ready',
            properties: { status: { type: 'string', enum: ['ready'] }, store: { type: 'string', enum: ['sqlite', 'postgres'] } },
          },
          503: {
            type: 'object',
            required: ['status'],
            description: 'stopping, the store cannot be reached, or its disk is full (reason disk_full)',
            properties: {
              status: { type: 'string', enum: ['stopping', 'unavailable'] },
              reason: { type: 'string', enum: ['disk_full'] },
              error: { type: 'string' },
            },
          },
        },
      },
    },
    async (_req, reply) => {
      if (isStopping()) return reply.code(503).send({ status: 'stopping' });
      try {
        if (storage?.diskFull && !(await storage.probe())) {
          return reply.code(503).send({ status: 'unavailable', reason: 'disk_full', error: storage.diskFull?.error ?? 'disk full' });
        }
        await store.settings.get('readyz');
        return { status: 'ready', store: store.kind };
      } catch (err) {
        return reply.code(503).send({ status: 'unavailable', error: (err as Error).message });
      }
    },
  );
}
