/**
 * /v1/suppressions?serverId=&emailAddress= (wire format §6.3): GET says whether the address is on
 * the server's suppression list, POST adds it (reason CustomerRequest, as the v2 add does), DELETE
 * takes it off; all through the store's suppression calls, so a v1-added address is suppressed at
 * delivery like any other. Each answers `{timestamp, object}` with the address's state after the
 * call; SocketLabs' own answer bodies are not documented.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Store } from '../../../store/store.js';
import { isValidEmailAddress, MAX_ADDRESS_LENGTH } from '../../../core/address.js';
import { suppressionKey, type Suppression } from '../../../core/suppression.js';
import { callerOf } from './auth.js';
import { V1Error } from './v1-error.js';
import { outputOf, timeZoneOf } from './params.js';
import { sendV1 } from './respond.js';
import { suppressionDoc } from './openapi.js';
import type { V1Record } from './render.js';

const fieldsOf = (idName: 'serverId' | 'accountId') => [
  idName === 'accountId' ? 'AccountId' : 'ServerId',
  'EmailAddress',
  'Suppressed',
  'Reason',
  'Detail',
  'DateTime',
  'Removed',
];

/** The emailAddress parameter: required and an address, or the request is refused before anything is written. */
function addressOf(params: Map<string, string>): string {
  const raw = params.get('emailaddress');
  if (raw === undefined) throw new V1Error('InvalidParameter', 'emailAddress is required', 'emailAddress');
  if (raw.length > MAX_ADDRESS_LENGTH || !isValidEmailAddress(raw))
    throw new V1Error('InvalidParameter', `emailAddress is not a valid email address: "${raw}"`, 'emailAddress');
  return raw;
}

export function registerSuppressionRoutes(scope: FastifyInstance, deps: { store: Store; now: () => number }): void {
  /** Answers the address's state; `removed` only for DELETE. */
  async function answer(req: FastifyRequest, reply: FastifyReply, address: string, found: Suppression | undefined, removed?: boolean) {
    const { serverId, idName, params } = callerOf(req);
    const offset = timeZoneOf(params) * 60_000;
    const object: V1Record = {
      [idName === 'accountId' ? 'AccountId' : 'ServerId']: serverId,
      EmailAddress: suppressionKey(address),
      Suppressed: found !== undefined,
      Reason: found?.reason ?? null,
      Detail: found?.detail ?? null,
      DateTime: found ? found.updatedAt + offset : null,
      ...(removed === undefined ? {} : { Removed: removed }),
    };
    const columns = fieldsOf(idName).filter((c) => c in object);
    return sendV1(req, reply, outputOf(params), {
      body: { timestamp: deps.now(), object },
      columns,
      records: [object],
      serverId,
      filename: `suppressions-${serverId}.csv`,
    });
  }
  /** Every parameter checked before the store is touched. */
  function checked(req: FastifyRequest): { serverId: number; address: string } {
    const { serverId, params } = callerOf(req);
    outputOf(params);
    timeZoneOf(params);
    return { serverId, address: addressOf(params) };
  }

  scope.get('/suppressions', { config: { openapi: suppressionDoc('Is the address suppressed?') } }, async (req, reply) => {
    const { serverId, address } = checked(req);
    return answer(req, reply, address, await deps.store.suppressions.get(serverId, address));
  });
  scope.post('/suppressions', { config: { openapi: suppressionDoc('Suppress the address') } }, async (req, reply) => {
    const { serverId, address } = checked(req);
    await deps.store.suppressions.add(serverId, [{ address, reason: 'CustomerRequest', detail: null }], deps.now());
    return answer(req, reply, address, await deps.store.suppressions.get(serverId, address));
  });
  scope.delete('/suppressions', { config: { openapi: suppressionDoc('Take the address off the suppression list') } }, async (req, reply) => {
    const { serverId, address } = checked(req);
    const removed = await deps.store.suppressions.remove(serverId, [address]);
    return answer(req, reply, address, undefined, removed > 0);
  });
}
