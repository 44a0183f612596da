import type { FastifyReply } from 'fastify';
import type { InjectionResponse, MessageResult, PostErrorCode } from '../../../core/injection-codes.js';
import { newId } from '../../../core/ids.js';

/** Human-readable reason for a non-Success answer. The body may carry nothing beyond the three
 *  SocketLabs properties (the Java client rejects unknown ones), so the reason travels here. */
export const ERROR_DETAIL_HEADER = 'x-postline-error';

export function injectionResponse(code: PostErrorCode, results: MessageResult[] = [], receipt: string | null = null): InjectionResponse {
  return { ErrorCode: code, MessageResults: results, TransactionReceipt: receipt };
}

/** Sends an error answer: HTTP 200 (SocketLabs' Node client drops the body of any other status),
 *  a receipt that matches the log line, and the reason in a header. */
export function sendError(reply: FastifyReply, code: PostErrorCode, detail: string, status = 200): FastifyReply {
  const receipt = newId();
  reply.log.info({ event: 'injection.rejected', errorCode: code, detail, receipt }, 'injection request rejected');
  return reply
    .code(status)
    .header(ERROR_DETAIL_HEADER, headerSafe(detail))
    .type('application/json; charset=utf-8')
    .send(JSON.stringify(injectionResponse(code, [], receipt)));
}

/** Header values must be one line of Latin-1; the detail may quote user input. */
export function headerSafe(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?').slice(0, 500);
}
