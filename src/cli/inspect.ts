// `mtls-sidecar inspect FILE`: print a certificate's identity as the proxy computes it. (stub — owner: posture)
import type { ConfigInput } from '../config/types.js';

export async function inspectCommand(_file: string, _input: ConfigInput, _opts: { json: boolean; withConfig: boolean }): Promise<void> {
  throw new Error('not implemented');
}
