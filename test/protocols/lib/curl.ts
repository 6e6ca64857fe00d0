// Runs the real curl CLI against the proxy (an independent HTTP/2 and HTTP/1.1 client) and parses its write-out.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { CertFiles } from '../../helpers/pki.js';

const run = promisify(execFile);

export interface CurlResult {
  status: number;
  httpVersion: string;
  body: string;
}

/** One request (`--http2` unless `http1`); headers are passed to curl exactly as given. */
export async function curl(o: {
  port: number;
  ca: string;
  client: CertFiles;
  path: string;
  http1?: boolean;
  headers?: string[];
  args?: string[];
  /** Sent as the request body from curl's standard input (`-T -`: no length known, so no Content-Length). */
  stdin?: string;
}): Promise<CurlResult> {
  const marker = '\n--curl-write-out--';
  const args = [
    // --path-as-is: curl would otherwise resolve dot-segments itself, and the test means to send them.
    '-sS',
    '--path-as-is',
    o.http1 ? '--http1.1' : '--http2',
    '--cacert',
    o.ca,
    '--cert',
    o.client.cert,
    '--key',
    o.client.key,
    '--resolve',
    `localhost:${o.port}:127.0.0.1`,
    '-w',
    `${marker}%{http_code} %{http_version}`,
    ...(o.headers ?? []).flatMap((h) => ['-H', h]),
    ...(o.args ?? []),
    ...(o.stdin === undefined ? [] : ['-T', '-']),
    `https://localhost:${o.port}${o.path}`,
  ];
  const pending = run('curl', args, { maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' });
  // curl reads no standard input without `-T -` and may exit before the empty write lands: EPIPE is no failure then.
  if (o.stdin === undefined) pending.child.stdin?.on('error', () => undefined);
  pending.child.stdin?.end(o.stdin ?? '');
  const { stdout } = await pending;
  const at = stdout.lastIndexOf(marker);
  const [code, version] = stdout.slice(at + marker.length).split(' ');
  return { status: Number(code), httpVersion: version ?? '', body: stdout.slice(0, at) };
}
