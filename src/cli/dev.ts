// `mtls-sidecar dev`: zero set-up local gateway with development certificates. (stub — owner: core)
import type { ConfigInput } from '../config/types.js';

export async function devCommand(_input: ConfigInput): Promise<void> {
  throw new Error('not implemented');
}
