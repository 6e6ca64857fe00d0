// HTTPS calls with a client certificate to a sidecar on 127.0.0.1, for the end-to-end tests.
import { request } from 'node:https';
import { connect } from 'node:tls';
import type { CertFiles } from '../../helpers/pki.js';
import type { JsonReply } from './grape-server.js';

export interface Caller {
  ca: CertFiles;
  client: CertFiles;
  port: number;
}

/** GET with the caller's certificate; header names are sent exactly as given (underscores included). */
export function httpsGet(c: Caller, path: string, headers: Record<string, string> = {}): Promise<JsonReply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: c.port,
        servername: 'localhost',
        path,
        method: 'GET',
        headers,
        agent: false,
        ca: c.ca.certPem,
        cert: c.client.certPem,
        key: c.client.keyPem,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> });
          } catch {
            resolve({ status: res.statusCode ?? 0, body: { raw: text } });
          }
        });
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** True once the listener completes a TLS handshake with the caller's certificate. */
export function handshakes(c: Caller): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({
      host: '127.0.0.1',
      port: c.port,
      servername: 'localhost',
      ca: c.ca.certPem,
      cert: c.client.certPem,
      key: c.client.keyPem,
    });
    socket.setTimeout(2000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('secureConnect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
