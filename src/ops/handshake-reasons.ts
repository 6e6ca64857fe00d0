// The reason labels of the handshake-failure metric (README "Probes and metrics"): a closed list, so the series stay
// bounded and each exists from the start; the gate maps OpenSSL's codes onto it.

export const REJECT_REASONS = [
  'no_certificate',
  'unknown_ca',
  'expired',
  'not_yet_valid',
  'revoked',
  'bad_key_usage',
  'invalid_chain',
  'chain_too_long',
  'weak_key',
  'weak_signature',
  'bad_certificate',
  'timeout',
  'protocol',
  'other',
] as const;

export type RejectReason = (typeof REJECT_REASONS)[number];
