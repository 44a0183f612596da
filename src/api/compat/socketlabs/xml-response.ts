/**
 * The Injection API's answer in XML, as .NET's XmlSerializer writes SocketLabs' `PostResponse`
 * (the response type of SocketLabs' InjectionApi.Sdk, whose XML sample posts `<PostBody>`): public
 * fields in declaration order, arrays as `<MessageResults><MessageResult>`, a null string left out.
 * Handlers answer JSON; the hook below turns that into XML at the reply boundary when the request
 * asked for it (compat/negotiate.ts), so every answer of the API, errors included, follows one rule.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { InjectionResponse } from '../../../core/injection-codes.js';
import { negotiate } from '../negotiate.js';
import { buildXmlDocument, XSD_NAMESPACE, XSI_NAMESPACE, xmlText, type XmlTree } from '../xml-writer.js';

export function injectionResponseXml(r: InjectionResponse): string {
  const root: XmlTree = {
    '@_xmlns:xsi': XSI_NAMESPACE,
    '@_xmlns:xsd': XSD_NAMESPACE,
    ErrorCode: xmlText(r.ErrorCode),
    MessageResults:
      r.MessageResults.length === 0
        ? ''
        : {
            MessageResult: r.MessageResults.map((m) => ({
              Index: xmlText(m.Index),
              ErrorCode: xmlText(m.ErrorCode),
              AddressResults:
                m.AddressResults.length === 0
                  ? ''
                  : {
                      AddressResult: m.AddressResults.map((a) => ({
                        EmailAddress: xmlText(a.EmailAddress),
                        Accepted: xmlText(a.Accepted),
                        ErrorCode: xmlText(a.ErrorCode),
                      })),
                    },
            })),
          },
  };
  if (r.TransactionReceipt !== null) root.TransactionReceipt = xmlText(r.TransactionReceipt);
  return buildXmlDocument({ PostResponse: root });
}

function isInjectionResponse(v: unknown): v is InjectionResponse {
  const r = v as Partial<InjectionResponse> | null;
  return typeof r === 'object' && r !== null && typeof r.ErrorCode === 'string' && Array.isArray(r.MessageResults);
}

/** onSend: the JSON answer as XML when Accept prefers XML, or the body was XML and Accept does not decide. */
export async function injectionAnswerFormat(req: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
  reply.header('vary', 'Accept, Content-Type');
  const want = negotiate(req.headers.accept, req.headers['content-type']);
  if (want.format === 'json' || typeof payload !== 'string') return payload;
  let body: unknown;
  try {
    body = JSON.parse(payload);
  } catch {
    return payload;
  }
  if (!isInjectionResponse(body)) return payload;
  reply.type(`${want.mediaType}; charset=utf-8`);
  return injectionResponseXml(body);
}
