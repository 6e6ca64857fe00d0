// The documented reason labels of a refused TLS connection (README "Probes and metrics"): the metric's label set.

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
