// An HTTP/2 client session to the proxy as a caller with a client certificate.
import http2 from 'node:http2';

export interface Credential {
  certPem: string;
  keyPem: string;
}

/**
 * Connects to 127.0.0.1:`port` (SNI and certificate name localhost) trusting `caPem` and presenting `caller`'s
 * certificate. The session's own 'error' is swallowed: tests observe refusals and resets through their streams.
 */
export function connectH2(port: number, caPem: string, caller: Credential): http2.ClientHttp2Session {
  const session = http2.connect(`https://localhost:${port}`, {
    ca: caPem,
    cert: caller.certPem,
    key: caller.keyPem,
    host: '127.0.0.1',
    servername: 'localhost',
  });
  session.on('error', () => undefined);
  return session;
}
