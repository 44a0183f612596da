import type { FastifyInstance } from 'fastify';
import type { GateStateView, ShapingView } from '../../../delivery/shaping/shaping-view.js';
import { requireAdmin } from '../auth.js';
import { dataResponse } from '../paging.js';
import { noQuery, withErrors } from '../schemas.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

const limitProperties = {
  connections: { type: 'integer', description: 'connections open at once' },
  messagesPerConnection: { type: 'integer' },
  perSecond: { type: ['number', 'null'], description: 'messages per second; null: not paced' },
  perHour: { type: ['integer', 'null'], description: 'messages in any hour (sliding window); null: no limit' },
} as const;
const limitsSchema = { type: 'object', required: Object.keys(limitProperties), properties: limitProperties } as const;
/** A recipient domain's limits: only those its entry gives. */
const partialLimitsSchema = { type: 'object', properties: limitProperties } as const;

const stateSchema = {
  type: 'object',
  required: ['sending', 'waiting', 'connectionsOpen', 'perSecondNow', 'slowedUntil', 'sentLastHour', 'slowDowns', 'lastSlowDown', 'suspensions'],
  properties: {
    sending: { type: 'integer', description: 'sends under way now' },
    waiting: { type: 'integer', description: 'sends waiting for a connection of the provider' },
    connectionsOpen: { type: 'integer', description: 'connections open now, busy or idle' },
    perSecondNow: { type: ['number', 'null'], description: 'the pacing rate in force: perSecond, or less while recovering from a slow-down' },
    slowedUntil: { type: ['string', 'null'], format: 'date-time', description: 'until when perSecond is reduced after a slow-down' },
    sentLastHour: { type: 'integer' },
    slowDowns: { type: 'integer', description: 'replies that asked to slow down, since the process started' },
    lastSlowDown: {
      type: ['object', 'null'],
      required: ['at', 'sourceIp', 'reply', 'pattern'],
      properties: { at: { type: 'string', format: 'date-time' }, sourceIp: { type: 'string' }, reply: { type: 'string' }, pattern: { type: 'string' } },
    },
    suspensions: {
      type: 'array',
      description: 'sending IPs the provider is suspended for now: nothing is sent to it from them until `until`',
      items: {
        type: 'object',
        required: ['sourceIp', 'since', 'until', 'reply', 'pattern'],
        properties: {
          sourceIp: { type: 'string' },
          since: { type: 'string', format: 'date-time' },
          until: { type: 'string', format: 'date-time' },
          reply: { type: 'string', description: 'the reply that asked to slow down' },
          pattern: { type: 'string', description: 'the slow-down pattern it matched' },
        },
      },
    },
  },
} as const;

const shapingSchema = {
  type: 'object',
  required: ['enabled', 'file', 'loadedAt', 'reloadError', 'default', 'providers', 'destinations', 'domains', 'slowDown', 'patterns'],
  properties: {
    enabled: {
      type: 'boolean',
      description: 'false: this process runs no shaped delivery (no delivery role, POSTLINE_SHAPING=off or a relay host); the rest is empty',
    },
    file: { type: ['string', 'null'], description: "the operator's file (POSTLINE_SHAPING_FILE), merged over the shipped one" },
    loadedAt: { type: ['string', 'null'], format: 'date-time' },
    reloadError: {
      type: ['object', 'null'],
      description: 'the last change of the file that could not be used (the version before it stays in force)',
      required: ['at', 'message'],
      properties: { at: { type: 'string', format: 'date-time' }, message: { type: 'string' } },
    },
    default: { ...limitsSchema, type: ['object', 'null'], description: 'the limits of each destination of no known provider' },
    providers: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'mx', 'limits', 'state'],
        properties: { name: { type: 'string' }, mx: { type: 'array', items: { type: 'string' } }, limits: limitsSchema, state: stateSchema },
      },
    },
    destinations: {
      type: 'array',
      description: 'destinations of no known provider that asked to slow down',
      items: {
        type: 'object',
        required: ['hosts', 'limits', 'state'],
        properties: { hosts: { type: 'string', description: 'host:port of its MX hosts, in order' }, limits: limitsSchema, state: stateSchema },
      },
    },
    domains: {
      type: 'array',
      items: {
        type: 'object',
        required: ['domain', 'limits', 'sending', 'sentLastHour'],
        properties: { domain: { type: 'string' }, limits: partialLimitsSchema, sending: { type: 'integer' }, sentLastHour: { type: 'integer' } },
      },
    },
    slowDown: {
      type: ['object', 'null'],
      required: ['initialSeconds', 'maxSeconds', 'calmSeconds', 'recoveryRateFactor', 'recoverySeconds'],
      properties: {
        initialSeconds: { type: 'number' },
        maxSeconds: { type: 'number' },
        calmSeconds: { type: 'number' },
        recoveryRateFactor: { type: 'number' },
        recoverySeconds: { type: 'number' },
      },
    },
    patterns: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'match', 'action'],
        properties: { id: { type: 'string' }, match: { type: 'string' }, action: { type: 'string', enum: ['suspend', 'slow'] } },
      },
    },
  },
} as const;

const stateToWire = (s: GateStateView) => ({
  ...s,
  slowedUntil: iso(s.slowedUntil),
  lastSlowDown: s.lastSlowDown && {
    at: iso(s.lastSlowDown.at),
    sourceIp: s.lastSlowDown.sourceIp,
    reply: s.lastSlowDown.reply,
    pattern: s.lastSlowDown.patternId,
  },
  suspensions: s.suspensions.map((x) => ({ ...x, since: iso(x.since), until: iso(x.until) })),
});

export function shapingToWire(v: ShapingView | null) {
  if (!v) {
    return {
      enabled: false,
      file: null,
      loadedAt: null,
      reloadError: null,
      default: null,
      providers: [],
      destinations: [],
      domains: [],
      slowDown: null,
      patterns: [],
    };
  }
  return {
    enabled: true,
    file: v.file,
    loadedAt: iso(v.loadedAt),
    reloadError: v.reloadError && { at: iso(v.reloadError.at), message: v.reloadError.message },
    default: v.default,
    providers: v.providers.map((p) => ({ name: p.name, mx: [...p.mx], limits: p.limits, state: stateToWire(p.state) })),
    destinations: v.destinations.map((d) => ({ hosts: d.hosts, limits: d.limits, state: stateToWire(d.state) })),
    domains: v.domains,
    slowDown: {
      initialSeconds: v.slowDown.initialMs / 1000,
      maxSeconds: v.slowDown.maxMs / 1000,
      calmSeconds: v.slowDown.calmMs / 1000,
      recoveryRateFactor: v.slowDown.recoveryFactor,
      recoverySeconds: v.slowDown.recoveryMs / 1000,
    },
    patterns: v.patterns,
  };
}

/**
 * GET /delivery/shaping — the traffic shaping of this process: each provider's limits and state
 * (suspended for which sending IP until when, the rate in force, slow-downs seen). The state is
 * the installation's, not an account's, so it is for admins (an admin's session or an account
 * key); it holds no tenant's data. docs/api-v2.md, Delivery.
 */
export function registerShapingRoute(scope: FastifyInstance, view: () => ShapingView | null): void {
  scope.get(
    '/delivery/shaping',
    {
      schema: {
        summary: 'Traffic shaping: providers, their limits and whether they asked to slow down (admin)',
        tags: ['delivery'],
        querystring: noQuery,
        response: withErrors({ 200: dataResponse(shapingSchema) }),
      },
    },
    async (req) => {
      requireAdmin(req, 'the delivery state');
      return { data: shapingToWire(view()) };
    },
  );
}
