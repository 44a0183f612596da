import type { FastifyInstance } from 'fastify';
import { MarketingError, withErrors } from './errors.js';
import { serverOf } from './auth.js';
import { idProperty, listName, listNameProperty, listSchema, listToWire, MARKETING_BODY_LIMIT, noContent, MARKETING_SECURITY } from './wire.js';
import type { MarketingRouteDeps } from './index.js';

export const listParams = { type: 'object', required: ['listId'], additionalProperties: false, properties: { listId: idProperty } } as const;
const nameBody = { type: 'object', required: ['name'], additionalProperties: false, properties: { name: listNameProperty } } as const;
const noQuery = { type: 'object', additionalProperties: false, properties: {} } as const;

const duplicate = (name: string) => new MarketingError(409, `a list named "${name}" already exists`);
export const noList = (listId: number) => new MarketingError(404, `no list ${listId}`);

/** GET/POST /lists, PATCH/DELETE /lists/{listId}: a server's contact lists, by a name unique in the server. */
export function registerListRoutes(scope: FastifyInstance, deps: MarketingRouteDeps): void {
  scope.get(
    '/lists',
    {
      config: { marketingXml: { root: 'lists', item: 'list' } },
      schema: {
        summary: 'List the contact lists, with how many contacts each has',
        tags: ['marketing'],
        security: MARKETING_SECURITY,
        querystring: noQuery,
        response: withErrors({ 200: { type: 'array', items: listSchema } }),
      },
    },
    async (req) => (await deps.store.marketing.listLists(serverOf(req))).map(listToWire),
  );

  scope.post<{ Body: { name: string } }>(
    '/lists',
    {
      config: { marketingXml: { root: 'list' } },
      bodyLimit: MARKETING_BODY_LIMIT,
      schema: {
        summary: 'Create a contact list',
        tags: ['marketing'],
        security: MARKETING_SECURITY,
        querystring: noQuery,
        body: nameBody,
        response: withErrors({ 201: listSchema }),
      },
    },
    async (req, reply) => {
      const name = listName(req.body.name);
      const list = await deps.store.marketing.createList(serverOf(req), name, deps.now());
      if (!list) throw duplicate(name);
      return reply.code(201).send(listToWire(list));
    },
  );

  scope.patch<{ Params: { listId: number }; Body: { name: string } }>(
    '/lists/:listId',
    {
      config: { marketingXml: { root: 'list' } },
      bodyLimit: MARKETING_BODY_LIMIT,
      schema: {
        summary: 'Rename a contact list',
        tags: ['marketing'],
        security: MARKETING_SECURITY,
        params: listParams,
        querystring: noQuery,
        body: nameBody,
        response: withErrors({ 200: listSchema }),
      },
    },
    async (req) => {
      const name = listName(req.body.name);
      const r = await deps.store.marketing.renameList(serverOf(req), req.params.listId, name, deps.now());
      if (r === undefined) throw noList(req.params.listId);
      if (r === 'duplicate') throw duplicate(name);
      return listToWire(r);
    },
  );

  scope.delete<{ Params: { listId: number } }>(
    '/lists/:listId',
    {
      schema: {
        summary: 'Delete a contact list (its contacts stay)',
        tags: ['marketing'],
        security: MARKETING_SECURITY,
        params: listParams,
        querystring: noQuery,
        response: withErrors({ 204: noContent }),
      },
    },
    async (req, reply) => {
      if (!(await deps.store.marketing.deleteList(serverOf(req), req.params.listId))) throw noList(req.params.listId);
      return reply.code(204).send();
    },
  );
}
