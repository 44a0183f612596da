import type { DeliveryOutcomeRecord, StoredRecipient } from '../store/store.js';
import type { SendResult } from './smtp-pool.js';
import { nextAttempt } from './retry.js';
import { bounceSuppression } from '../core/suppression.js';

/** The reply classifier (src/bounce/classify.ts), passed in so this mapping stays pure. */
export interface Classification {
  permanent: boolean;
  failureCode: number;
  enhancedStatus: string | null;
  explanation: string;
  ruleId: string | null;
}
export type Classify = (reply: { code: number | null; text: string }) => Classification;

export interface OutcomeContext {
  now: number;
  lifetimeMs: number;
  retrySchedule?: readonly number[];
  random?: () => number;
}

/** SocketLabs' FailureType: 0 temporary (address not suppressed), 1 permanent (an address failure suppresses it). */
const FAILURE_TYPE_TEMPORARY = 0;
const FAILURE_TYPE_PERMANENT = 1;
/** FailureCode for "rejected as too old": the message's lifetime ran out while it was being retried. */
const FAILURE_CODE_EXPIRED = 4004;

/** What a delivery attempt's result means for the recipient: delivered, deferred, failed or expired. */
export function outcomeFor(r: StoredRecipient, result: SendResult, classify: Classify, ctx: OutcomeContext): DeliveryOutcomeRecord {
  const attempts = r.attempts + 1;
  if (result.kind === 'accepted') {
    return {
      recipientId: r.id,
      status: 'delivered',
      attempts,
      nextAttemptAt: null,
      reply: result.response,
      mx: result.mx,
      failureCode: null,
      event: {
        type: 'Delivered',
        data: {
          Response: result.response,
          LocalIp: result.localIp,
          RemoteMta: result.mx,
          Tls: result.tls,
          // How the message was protected on its way (message detail shows it; webhooks pick their own fields).
          ...(result.tlsOutcome
            ? {
                TlsVersion: result.tlsOutcome.version,
                TlsCipher: result.tlsOutcome.cipher,
                TlsVerified: result.tlsOutcome.verified,
                TlsPolicy: result.tlsOutcome.policy,
              }
            : {}),
        },
      },
    };
  }
  if (result.kind === 'held') {
    // Traffic shaping held it without connecting: deferred as of the hold's end, alike for the recipients it holds.
    const h = result.hold;
    return deferOrExpire(r, attempts, h.reason, null, h.classification, { ...ctx, now: h.since, random: () => h.jitter });
  }
  const code = result.kind === 'rejected' ? result.code : null;
  const text = result.kind === 'rejected' ? `${result.code} ${result.response.replace(/^\d{3}[ -]/, '')}` : result.error;
  const c = classify({ code, text });
  const base = { BounceStatus: c.enhancedStatus, RemoteMta: result.mx, Explanation: c.explanation, FailureCode: c.failureCode };
  if (c.permanent) {
    return {
      recipientId: r.id,
      status: 'failed',
      attempts,
      nextAttemptAt: null,
      reply: text,
      mx: result.mx,
      failureCode: c.failureCode,
      event: {
        type: 'Failed',
        data: {
          ...base,
          FailureType: FAILURE_TYPE_PERMANENT,
          Reason: text,
          DiagnosticCode: code === null || (result.kind === 'rejected' && result.local) ? null : `smtp; ${text}`,
        },
      },
      suppress: bounceSuppression(true, c.failureCode, text),
    };
  }
  return deferOrExpire(r, attempts, text, result.mx, c, ctx);
}

/** A temporary failure: try again per the retry schedule, or fail as expired past the lifetime. */
export function deferOrExpire(
  r: StoredRecipient,
  attempts: number,
  reason: string,
  mx: string | null,
  c: Classification,
  ctx: OutcomeContext,
): DeliveryOutcomeRecord {
  const next = nextAttempt(attempts, r.createdAt, ctx.now, ctx.lifetimeMs, ctx.retrySchedule, ctx.random);
  const base = { BounceStatus: c.enhancedStatus, RemoteMta: mx, Explanation: c.explanation };
  if (next.kind === 'expired') {
    const why = `expired after ${attempts} attempts over ${Math.round(ctx.lifetimeMs / 3_600_000)} h; last reply: ${reason}`;
    return {
      recipientId: r.id,
      status: 'failed',
      attempts,
      nextAttemptAt: null,
      reply: reason,
      mx,
      failureCode: FAILURE_CODE_EXPIRED,
      event: {
        type: 'Failed',
        data: { ...base, FailureType: FAILURE_TYPE_TEMPORARY, FailureCode: FAILURE_CODE_EXPIRED, Reason: why, DiagnosticCode: null, Expired: true },
      },
    };
  }
  return {
    recipientId: r.id,
    status: 'deferred',
    attempts,
    nextAttemptAt: next.at,
    reply: reason,
    mx,
    failureCode: c.failureCode,
    event: {
      type: 'Deferred',
      data: { ...base, FailureCode: c.failureCode, Reason: reason, Attempts: attempts, NextAttempt: new Date(next.at).toISOString() },
    },
  };
}

/**
 * A recipient that can never be delivered (null MX, no such domain): failed permanently without
 * an attempt. `suppressAddress` false keeps the address off the suppression list even for a 2xxx
 * code, when the evidence is only our resolver's (see Destination in mx.ts).
 */
export function undeliverable(r: StoredRecipient, reason: string, failureCode: number, explanation: string, suppressAddress = true): DeliveryOutcomeRecord {
  return {
    recipientId: r.id,
    status: 'failed',
    attempts: r.attempts + 1,
    nextAttemptAt: null,
    reply: reason,
    mx: null,
    failureCode,
    event: {
      type: 'Failed',
      data: {
        FailureType: FAILURE_TYPE_PERMANENT,
        FailureCode: failureCode,
        Reason: reason,
        BounceStatus: null,
        DiagnosticCode: null,
        RemoteMta: null,
        Explanation: explanation,
      },
    },
    // A null MX (2002) suppresses like an unknown user; "content is missing" (9999) does not.
    suppress: suppressAddress ? bounceSuppression(true, failureCode, reason) : null,
  };
}
