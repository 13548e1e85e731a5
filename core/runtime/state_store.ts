/**
 * The device-side home of training state: parameters, optimizer moments, gradient accumulators,
 * by graph input name. One store can serve several {@linkcode TrainingStep}s on the same backend
 * (gradient accumulation runs an `accumulate` graph and an `apply` graph over the same
 * parameters and accumulators).
 *
 * @module
 */
import type { DeviceTensor } from "./backend.ts";

/** Device tensors by name; replacing or deleting one frees the old tensor's device memory. */
export class StateStore {
  readonly #tensors = new Map<string, DeviceTensor>();

  /** The names held, in insertion order. */
  names(): string[] {
    return [...this.#tensors.keys()];
  }

  /** Whether `name` is held. */
  has(name: string): boolean {
    return this.#tensors.has(name);
  }

  /** The tensor held under `name`, if any. */
  get(name: string): DeviceTensor | undefined {
    return this.#tensors.get(name);
  }

  /**
   * Holds `tensor` under `name`, freeing the tensor it replaces.
   *
   * @example
   * ```ts
   * import { StateStore } from "./state_store.ts";
   * const store = new StateStore();
   * console.assert(!store.has("w") && store.names().length === 0);
   * ```
   */
  set(name: string, tensor: DeviceTensor): void {
    const previous = this.#tensors.get(name);
    this.#tensors.set(name, tensor);
    if (previous !== undefined && previous !== tensor) previous.dispose();
  }

  /** Frees every tensor and empties the store. */
  dispose(): void {
    for (const tensor of this.#tensors.values()) tensor.dispose();
    this.#tensors.clear();
  }
}
