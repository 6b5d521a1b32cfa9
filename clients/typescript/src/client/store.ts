/**
 * Change notifications in the shape React's `useSyncExternalStore` reads:
 * `subscribe(listener)` returns an unsubscribe function, `getSnapshot()`
 * returns the same object until something changed. Listeners are called once
 * per burst of changes (a frame of 50 batched events notifies once).
 */
export class ExternalStore<T> {
  #value: T;
  readonly #listeners = new Set<() => void>();
  #scheduled = false;

  constructor(initial: T) {
    this.#value = initial;
  }

  getSnapshot = (): T => this.#value;

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  set(value: T): void {
    if (value === this.#value) return;
    this.#value = value;
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      for (const l of [...this.#listeners]) {
        try {
          l();
        } catch (e) {
          console.error("[social] a store listener threw", e);
        }
      }
    });
  }
}
