/**
 * Where the outbox survives app restarts: any async key-value store with the
 * shape of React Native's AsyncStorage (`@react-native-async-storage/async-storage`
 * fits as it is; so do MMKV or SQLite wrappers with these three methods).
 */
export interface KeyValueStorage {
  getItem(key: string): Promise<string | null>;
  setItem(key: string, value: string): Promise<void>;
  removeItem(key: string): Promise<void>;
}

/** The default: memory only, so the outbox survives reconnects but not a restart of the app. */
export class MemoryStorage implements KeyValueStorage {
  readonly #items = new Map<string, string>();

  getItem(key: string): Promise<string | null> {
    return Promise.resolve(this.#items.get(key) ?? null);
  }

  setItem(key: string, value: string): Promise<void> {
    this.#items.set(key, value);
    return Promise.resolve();
  }

  removeItem(key: string): Promise<void> {
    this.#items.delete(key);
    return Promise.resolve();
  }
}
