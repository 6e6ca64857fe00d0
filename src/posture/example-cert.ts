// The fingerprint of the shipped example certificate: posture warns when it serves. Its own module, so devcerts (which
// loads node-forge) is not needed to check it.

/** SHA-256 of certs-example/server.crt's DER, lowercase hex. */
export const EXAMPLE_SERVER_CERT_SHA256 = 'e0081fb6e59167fcda85a152888c35e2d75f15fb4c61aeb7ad3bf2c098603bc1';
