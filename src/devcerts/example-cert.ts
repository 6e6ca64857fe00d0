// The fingerprint of the shipped example certificate, in a module of its own so `run` does not load node-forge.

/** SHA-256 of certs-example/server.crt's DER, lowercase hex: posture warns when this cert serves. */
export const EXAMPLE_SERVER_CERT_SHA256 = 'e0081fb6e59167fcda85a152888c35e2d75f15fb4c61aeb7ad3bf2c098603bc1';
