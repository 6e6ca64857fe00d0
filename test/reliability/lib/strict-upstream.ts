// A raw TCP upstream with a deliberately strict HTTP/1.1 parser: it records exact bytes and flags anything ambiguous
// the proxy forwards.
import net from 'node:net';

export interface StrictRequest {
  method: string;
  target: string;
  headers: Array<[string, string]>;
  body: Buffer;
  requestId: string;
}

export interface StrictUpstream {
  url: string;
  port: number;
  requests: StrictRequest[];
  /** Anything this parser could not read unambiguously, with a sample of the bytes. */
  problems: Array<{ problem: string; sample: string }>;
  /** Connections that closed with a partial request buffered (the proxy aborted a forwarded request). */
  abortedPartials: number;
  close(): Promise<void>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const FIELD_VALUE = /^[\x21-\x7e\x80-\xff]*(?:[ \t]+[\x21-\x7e\x80-\xff]+)*$/;
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) ([\x21-\x7e]+) HTTP\/1\.1$/;

type Step =
  { kind: 'need-more' } | { kind: 'bad'; problem: string } | { kind: 'request'; request: StrictRequest; used: number };

/** Parses one request from the front of `buf`, refusing every lenient reading RFC 9112 allows a recipient to make. */
export function parseStrictRequest(buf: Buffer): Step {
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd < 0) {
    if (buf.length > 256 * 1024) return { kind: 'bad', problem: 'head larger than 256 KiB' };
    return { kind: 'need-more' };
  }
  const head = buf.subarray(0, headEnd).toString('latin1');
  if (/\r(?!\n)|(?<!\r)\n/.test(head)) return { kind: 'bad', problem: 'bare CR or LF in head' };
  const [line = '', ...fieldLines] = head.split('\r\n');
  const rl = REQUEST_LINE.exec(line);
  if (!rl) return { kind: 'bad', problem: `bad request line ${JSON.stringify(line.slice(0, 80))}` };
  const headers: Array<[string, string]> = [];
  for (const f of fieldLines) {
    if (/^[ \t]/.test(f)) return { kind: 'bad', problem: 'obs-fold' };
    const colon = f.indexOf(':');
    const name = colon > 0 ? f.slice(0, colon) : '';
    const value = f.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (!TOKEN.test(name)) return { kind: 'bad', problem: `bad field name ${JSON.stringify(name.slice(0, 40))}` };
    if (!FIELD_VALUE.test(value)) return { kind: 'bad', problem: `bad field value for ${name}` };
    headers.push([name.toLowerCase(), value]);
  }
  const all = (n: string): string[] => headers.filter(([k]) => k === n).map(([, v]) => v);
  const cl = all('content-length');
  const te = all('transfer-encoding');
  if (all('host').length !== 1) return { kind: 'bad', problem: `host header count ${all('host').length}` };
  if (te.length > 0 && cl.length > 0) return { kind: 'bad', problem: 'both Content-Length and Transfer-Encoding' };
  if (te.length > 1 || (te.length === 1 && te[0] !== 'chunked'))
    return { kind: 'bad', problem: `transfer-encoding ${JSON.stringify(te)}` };
  if (cl.length > 1) return { kind: 'bad', problem: 'several Content-Length fields' };
  if (cl.length === 1 && !/^\d{1,15}$/.test(cl[0]!))
    return { kind: 'bad', problem: `content-length ${JSON.stringify(cl[0])}` };
  let pos = headEnd + 4;
  let body: Buffer;
  if (te.length === 1) {
    const parts: Buffer[] = [];
    for (;;) {
      const eol = buf.indexOf('\r\n', pos);
      if (eol < 0) return { kind: 'need-more' };
      const sizeLine = buf.subarray(pos, eol).toString('latin1');
      const m = /^([0-9a-fA-F]{1,15})(?:;[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:=[!#$%&'*+.^_`|~0-9A-Za-z-]+)?)*$/.exec(
        sizeLine,
      );
      if (!m) return { kind: 'bad', problem: `chunk size line ${JSON.stringify(sizeLine.slice(0, 40))}` };
      const size = parseInt(m[1]!, 16);
      pos = eol + 2;
      if (size === 0) {
        if (buf.length < pos + 2) return { kind: 'need-more' };
        if (buf.subarray(pos, pos + 2).toString('latin1') !== '\r\n')
          return { kind: 'bad', problem: 'trailer section' };
        pos += 2;
        break;
      }
      if (buf.length < pos + size + 2) return { kind: 'need-more' };
      parts.push(buf.subarray(pos, pos + size));
      if (buf.subarray(pos + size, pos + size + 2).toString('latin1') !== '\r\n')
        return { kind: 'bad', problem: 'chunk data not followed by CRLF' };
      pos += size + 2;
    }
    body = Buffer.concat(parts);
  } else {
    const length = cl.length === 1 ? Number(cl[0]) : 0;
    if (buf.length < pos + length) return { kind: 'need-more' };
    body = buf.subarray(pos, pos + length);
    pos += length;
  }
  const request: StrictRequest = {
    method: rl[1]!,
    target: rl[2]!,
    headers,
    body: Buffer.from(body),
    requestId: all('x-request-id')[0] ?? '',
  };
  return { kind: 'request', request, used: pos };
}

export async function startStrictUpstream(): Promise<StrictUpstream> {
  const requests: StrictRequest[] = [];
  const problems: StrictUpstream['problems'] = [];
  const sockets = new Set<net.Socket>();
  const state = { abortedPartials: 0 };
  const server = net.createServer((socket) => {
    sockets.add(socket);
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const step = parseStrictRequest(buf);
        if (step.kind === 'need-more') return;
        if (step.kind === 'bad') {
          problems.push({ problem: step.problem, sample: buf.subarray(0, 300).toString('latin1') });
          socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
          buf = Buffer.alloc(0);
          return;
        }
        requests.push(step.request);
        buf = buf.subarray(step.used);
        const body = `upstream-ok rid=${step.request.requestId} target=${step.request.target.slice(0, 64)}`;
        socket.write(
          `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        );
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      sockets.delete(socket);
      if (buf.length > 0) state.abortedPartials += 1;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    problems,
    get abortedPartials() {
      return state.abortedPartials;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
