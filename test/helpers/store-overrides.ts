import type { Store } from '../../src/store/store.js';

type AreaName = Exclude<keyof Store, 'kind' | 'migrate' | 'close' | 'checkpointState'>;

/**
 * The store with some methods of one area replaced, the rest real: a commit that fails, an
 * outcome record that fails while a flag is set. `methods` is read on every access, so it can
 * return different replacements over time (an empty object: the real methods).
 */
export function withAreaOverrides<A extends AreaName>(store: Store, area: A, methods: () => Partial<Store[A]>): Store {
  const real = store[area] as object;
  const patched = new Proxy(real, {
    get(target, prop) {
      const replaced = (methods() as Record<PropertyKey, unknown>)[prop];
      if (replaced !== undefined) return replaced;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return new Proxy(store, {
    get(target, prop) {
      if (prop === area) return patched;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
