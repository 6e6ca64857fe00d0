// Turns loaded TLS material and the config into Node TLS server options.
import { constants } from 'node:crypto';
import type { SecureContextOptions, TlsOptions } from 'node:tls';
import type { Config } from '../config/types.js';
import type { TlsMaterial } from './material.js';

/**
 * TLS 1.3 suites (all AEAD with forward secrecy), then TLS 1.2 limited to ECDHE with AES-GCM or ChaCha20-Poly1305:
 * no static-RSA key exchange, CBC, CCM or ARIA (Node's defaults offer them on TLS 1.2).
 */
export const CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** Options for `tls.createSecureContext` / `server.setSecureContext`: everything that a reload may change. */
export function buildSecureContextOptions(
  material: TlsMaterial,
  config: Pick<Config, 'minTlsVersion'>,
): SecureContextOptions {
  return {
    cert: material.certPem,
    key: material.keyPem,
    ca: material.caPem,
    minVersion: config.minTlsVersion,
    ciphers: CIPHERS,
    // Refuse client-initiated renegotiation outright (TLS 1.2); TLS 1.3 has none.
    secureOptions: constants.SSL_OP_NO_RENEGOTIATION,
  };
}

/**
 * Server-level TLS options: demand a certificate in the handshake; the gate judges it right after (keeping the
 * reason).
 */
export function buildServerTlsOptions(material: TlsMaterial, config: Config): TlsOptions {
  return {
    ...buildSecureContextOptions(material, config),
    requestCert: true,
    // OpenSSL then refuses a client without a certificate with an alert. Every other verdict is handed to the
    // connection gate during the handshake (gate/verdict-handoff.ts), which destroys the socket before any request
    // is read and keeps the reason.
    rejectUnauthorized: true,
    handshakeTimeout: config.handshakeTimeoutMs,
  };
}
