// The immutable run-time state (TLS material, compiled policy) that the reloader swaps whole.
import type { CompiledPolicy } from '../authz/route-policy.js';
import type { TlsMaterial } from './material.js';

export interface Snapshot {
  /** Grows by one on every swap; connections remember the version they were last judged under. */
  version: number;
  material: TlsMaterial;
  policy: CompiledPolicy;
  policyDigest: string;
}

/** What a load produces; the store numbers it. */
export type SnapshotContent = Omit<Snapshot, 'version'>;

export class SnapshotStore {
  #current: Snapshot;

  constructor(initial: SnapshotContent) {
    this.#current = { ...initial, version: 1 };
  }

  get current(): Snapshot {
    return this.#current;
  }

  swap(next: SnapshotContent): Snapshot {
    this.#current = { ...next, version: this.#current.version + 1 };
    return this.#current;
  }
}
