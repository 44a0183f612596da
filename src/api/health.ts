import type { FastifyInstance } from 'fastify';
import type { Store } from '../store/store.js';

/** /healthz: the process answers. /readyz: it can reach its store and is not shutting down. */
export function registerHealthRoutes(app: FastifyInstance, store: Store, isStopping: () => boolean): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    if (isStopping()) return reply.code(503).send({ status: 'stopping' });
    try {
      await store.getSetting('readyz');
      return { status: 'ready', store: store.kind };
    } catch (err) {
      return reply.code(503).send({ status: 'unavailable', error: (err as Error).message });
    }
  });
}
