// Maps OpenSSL verification codes and TLS client errors to the small, documented set of reason labels (README "Probes
// and metrics").
import type { RejectReason } from '../ops/reject-reasons.js';

const VERIFY_CODE_REASONS: Readonly<Record<string, RejectReason>> = {
  UNABLE_TO_GET_ISSUER_CERT: 'unknown_ca',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unknown_ca',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unknown_ca',
  SELF_SIGNED_CERT_IN_CHAIN: 'unknown_ca',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'unknown_ca',
  CERT_SIGNATURE_FAILURE: 'unknown_ca',
  CERT_UNTRUSTED: 'unknown_ca',
  CERT_CHAIN_TOO_LONG: 'chain_too_long',
  INVALID_CA: 'invalid_chain',
  PATH_LENGTH_EXCEEDED: 'invalid_chain',
  CERT_HAS_EXPIRED: 'expired',
  CERT_NOT_YET_VALID: 'not_yet_valid',
  CERT_REVOKED: 'revoked',
  INVALID_PURPOSE: 'bad_key_usage',
  CERT_REJECTED: 'bad_key_usage',
};

/** Reason for a completed handshake whose peer certificate did not verify (`socket.authorizationError`). */
export function classifyVerifyError(code: string | undefined, hasPeerCertificate: boolean): RejectReason {
  if (!hasPeerCertificate) return 'no_certificate';
  if (code === undefined) return 'other';
  return VERIFY_CODE_REASONS[code] ?? 'other';
}

/** Reason for a handshake that failed inside OpenSSL or Node (`tlsClientError`). */
export function classifyClientError(err: { code?: string; message?: string }): RejectReason {
  const code = err.code ?? '';
  const message = err.message ?? '';
  if (code === 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE' || /peer did not return a certificate/i.test(message)) {
    return 'no_certificate';
  }
  if (code === 'ERR_TLS_HANDSHAKE_TIMEOUT') return 'timeout';
  if (/CERTIFICATE_VERIFY_FAILED|certificate verify failed/i.test(code + message)) return 'unknown_ca';
  if (/EXCESSIVE_MESSAGE_SIZE|CERT_LENGTH_MISMATCH|BAD_CERTIFICATE|CERTIFICATE_TOO_LARGE/i.test(code))
    return 'bad_certificate';
  if (
    /UNSUPPORTED_PROTOCOL|NO_PROTOCOLS_AVAILABLE|WRONG_VERSION_NUMBER|VERSION_TOO_LOW|NO_SHARED_CIPHER|HTTP_REQUEST|HTTPS_PROXY_REQUEST|UNKNOWN_PROTOCOL|WRONG_SSL_VERSION|INAPPROPRIATE_FALLBACK|NO_APPLICATION_PROTOCOL|PACKET_LENGTH_TOO_LONG|RECORD_LENGTH_MISMATCH|UNEXPECTED_MESSAGE|BAD_PACKET|NO_SUITABLE/i.test(
      code,
    )
  ) {
    return 'protocol';
  }
  return 'other';
}
