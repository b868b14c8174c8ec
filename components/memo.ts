// Values that depend only on their key and are asked for once per node or per step (a distribution's paths, a
// script's base64, a role's CIS table, a host's connection): made on the first call and kept. One idiom for every such
// cache; a WeakMap where the key is an object the stack may drop.
export interface Cache<K, V> {
  get(key: K): V | undefined;
  set(key: K, value: V): unknown;
}

/** The value for `key` in `cache`, made with `make` the first time it is asked for. */
export function memo<K, V>(cache: Cache<K, V>, key: K, make: (key: K) => V): V {
  let value = cache.get(key);
  if (value === undefined) {
    value = make(key);
    cache.set(key, value);
  }
  return value;
}
