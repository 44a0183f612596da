/**
 * Which event types an endpoint in SocketLabs' legacy Notification API format (`form`) receives.
 * Here, below the store, because the store routes events to endpoints by it (webhook outbox) and
 * the webhooks and API layers apply the same rule.
 */

/**
 * The types the legacy Notification API sent (SocketLabs' samples handle Delivered,
 * Complaint, Failed, Validation and Tracking). It had no Queued or Deferred, and a legacy
 * receiver answers an unknown Type with 400, so form endpoints never get them.
 */
export const LEGACY_NOTIFICATION_TYPES = ['Delivered', 'Failed', 'Tracking', 'Complaint', 'Validation'] as const;

/** Types a form endpoint may subscribe to: the legacy ones but Validation, which is sent on request only. */
export const LEGACY_SUBSCRIBABLE_TYPES: readonly string[] = LEGACY_NOTIFICATION_TYPES.filter((t) => t !== 'Validation');

/**
 * The event types an endpoint receives: null for every type (a JSON endpoint that asked for none
 * in particular), else the list. A form endpoint never receives Queued or Deferred, whatever it
 * asked for.
 */
export function typesReceived(e: { format: string; eventTypes: readonly string[] }): readonly string[] | null {
  if (e.format !== 'form') return e.eventTypes.length === 0 ? null : e.eventTypes;
  return e.eventTypes.length === 0 ? LEGACY_SUBSCRIBABLE_TYPES : e.eventTypes.filter((t) => LEGACY_SUBSCRIBABLE_TYPES.includes(t));
}

/** Event types a form endpoint cannot have (to refuse them with a clear error). */
export function typesNotForForm(eventTypes: readonly string[]): string[] {
  return eventTypes.filter((t) => !LEGACY_SUBSCRIBABLE_TYPES.includes(t));
}
