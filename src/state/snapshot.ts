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

export class SnapshotStore {
  #current: Snapshot;

  constructor(initial: Omit<Snapshot, 'version'>) {
    this.#current = { ...initial, version: 1 };
  }

  get current(): Snapshot {
    return this.#current;
  }

  swap(next: Omit<Snapshot, 'version'>): Snapshot {
    this.#current = { ...next, version: this.#current.version + 1 };
    return this.#current;
  }
}
