// `mtls-sidecar check`: load everything `run` would and report; returns the exit code. (stub — owner: posture)
import type { ConfigInput } from '../config/types.js';

export async function checkCommand(_input: ConfigInput, _opts: { json: boolean }): Promise<number> {
  throw new Error('not implemented');
}
