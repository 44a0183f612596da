import type { FastifyRequest } from 'fastify';
import { serverIdParams } from './schemas.js';

/**
 * How a route finds the server it acts on: the `/servers/:serverId` path, or another path that
 * names one (a sub-account is a server: `/subaccount/:subaccountId`). Route files that serve both
 * take one of these, so the handler is written once.
 */
export interface ServerPath {
  /** The path parameters' schema. */
  params: { type: 'object'; required: readonly string[]; properties: Record<string, object> };
  /** The server's id; authentication has already tied it to the caller's key. */
  serverIdOf(req: FastifyRequest): number;
}

export const SERVER_PATH: ServerPath = {
  params: serverIdParams,
  serverIdOf: (req) => Number((req.params as { serverId: string }).serverId),
};
