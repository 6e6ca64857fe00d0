// The reason labels of refused TLS handshakes (README "Probes and metrics"): below the TLS gate, so metrics can
// list them without importing it.

export type RejectReason =
  | 'no_certificate'
  | 'unknown_ca'
  | 'expired'
  | 'not_yet_valid'
  | 'revoked'
  | 'bad_key_usage'
  | 'invalid_chain'
  | 'chain_too_long'
  | 'weak_key'
  | 'weak_signature'
  | 'bad_certificate'
  | 'timeout'
  | 'protocol'
  | 'other';

export const REJECT_REASONS: readonly RejectReason[] = [
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
];
