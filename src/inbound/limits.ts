/** Inbound routing limits, each a named constant with its reason (docs/inbound.md lists them). */

/** Routes per server: each is a row of the routing table every MX listener holds in memory. */
export const MAX_INBOUND_ROUTES_PER_SERVER = 100;

/** Widest `from`-`to` of one replay (7 days), as for webhooks: longer outages are replayed in steps. */
export const MAX_INBOUND_REPLAY_RANGE_MS = 604_800_000;

/** Messages one replay may queue: each may be 50 MB to parse and post again, so fewer than webhook events. */
export const MAX_INBOUND_REPLAY_MESSAGES = 10_000;
