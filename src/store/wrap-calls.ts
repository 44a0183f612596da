import type { Store } from './store.js';

/** The Store's areas: repositories reached as `store.<area>.<method>(...)` (see docs/architecture.md, Storage shape). */
export const STORE_AREAS: ReadonlySet<PropertyKey> = new Set<PropertyKey>([
  'tenancy',
  'settings',
  'queue',
  'workers',
  'events',
  'webhooks',
  'suppressions',
  'templates',
  'sendingDomains',
  'customDomains',
  'inbound',
  'marketing',
  'listSends',
  'reports',
  'retention',
  'users',
  'audit',
  'contactImports',
  'rateSlots',
  'tlsReports',
]);

/** Says how to run one call: `call()` runs it; `name` is `area.method` for an area's call, `method` for the Store's own. */
export type CallWrapper = (call: () => unknown, name: string) => unknown;

/**
 * The store with every method call, its own and its areas', going through `wrap`. For the
 * cross-cutting views every role shares (the disk-full watch, the dispatcher's wake): written
 * once here, so a new area is watched by adding its name to STORE_AREAS.
 */
export function wrapStoreCalls(store: Store, wrap: CallWrapper): Store {
  const areas = new Map<PropertyKey, object>();
  const calls = <T extends object>(target: T, area: PropertyKey | null): T =>
    new Proxy(target, {
      get(t, prop) {
        const value: unknown = Reflect.get(t, prop, t);
        if (area === null && STORE_AREAS.has(prop) && typeof value === 'object' && value !== null) {
          let wrapped = areas.get(prop);
          if (!wrapped) areas.set(prop, (wrapped = calls(value, prop)));
          return wrapped;
        }
        if (typeof value !== 'function') return value;
        const fn = value as (...args: unknown[]) => unknown;
        const name = area === null ? String(prop) : `${String(area)}.${String(prop)}`;
        return (...args: unknown[]) => wrap(() => fn.apply(t, args), name);
      },
    });
  return calls(store, null);
}
