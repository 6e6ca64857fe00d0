// Incremental HTTP/1.1 response parser (status, headers, Content-Length or chunked body) for the test clients.

const CRLFCRLF = Buffer.from('\r\n\r\n');

/**
 * Returns `{ push(chunk), midResponse() }`; `onResponse({ status, headers, body, close })` fires once per complete
 * response, `onGarbage()` when the bytes cannot be an HTTP/1.1 response.
 */
export function parseResponses(onResponse, onGarbage) {
  let buf = Buffer.alloc(0);
  let head; // { status, headers, close, length, chunked }
  let bodyParts = [];
  let remaining = 0;
  let chunkState = 'size'; // 'size' | 'data' | 'crlf' | 'trailers'
  let broken = false;

  const complete = () => {
    const res = { status: head.status, headers: head.headers, body: Buffer.concat(bodyParts), close: head.close };
    head = undefined;
    bodyParts = [];
    onResponse(res);
  };

  const parseHead = () => {
    const end = buf.indexOf(CRLFCRLF);
    if (end < 0) return false;
    const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
    buf = buf.subarray(end + 4);
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    if (!m) {
      broken = true;
      onGarbage();
      return false;
    }
    const headers = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const te = (headers['transfer-encoding'] ?? '').toLowerCase();
    head = {
      status: Number(m[1]),
      headers,
      close: /\bclose\b/i.test(headers.connection ?? '') || lines[0].startsWith('HTTP/1.0'),
      chunked: te.includes('chunked'),
      length: Number(headers['content-length'] ?? 0),
    };
    if (head.chunked) chunkState = 'size';
    else remaining = head.length;
    return true;
  };

  const parseBody = () => {
    if (!head.chunked) {
      const take = Math.min(remaining, buf.length);
      if (take > 0) {
        bodyParts.push(buf.subarray(0, take));
        buf = buf.subarray(take);
        remaining -= take;
      }
      if (remaining === 0) {
        complete();
        return true;
      }
      return false;
    }
    for (;;) {
      if (chunkState === 'size') {
        const eol = buf.indexOf('\r\n');
        if (eol < 0) return false;
        const size = parseInt(buf.subarray(0, eol).toString('latin1').split(';')[0], 16);
        buf = buf.subarray(eol + 2);
        if (!Number.isFinite(size)) {
          broken = true;
          onGarbage();
          return false;
        }
        if (size === 0) chunkState = 'trailers';
        else {
          remaining = size;
          chunkState = 'data';
        }
      } else if (chunkState === 'data') {
        const take = Math.min(remaining, buf.length);
        if (take > 0) {
          bodyParts.push(buf.subarray(0, take));
          buf = buf.subarray(take);
          remaining -= take;
        }
        if (remaining > 0) return false;
        chunkState = 'crlf';
      } else if (chunkState === 'crlf') {
        if (buf.length < 2) return false;
        buf = buf.subarray(2);
        chunkState = 'size';
      } else {
        const eol = buf.indexOf('\r\n');
        if (eol < 0) return false;
        buf = buf.subarray(eol + 2);
        if (eol === 0) {
          complete();
          return true;
        }
      }
    }
  };

  return {
    push(chunk) {
      if (broken) return;
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      for (;;) {
        if (!head && !parseHead()) return;
        if (broken || !parseBody()) return;
        if (buf.length === 0) return;
      }
    },
    /** True when some bytes of a response have arrived but it is not complete. */
    midResponse() {
      return head !== undefined || buf.length > 0;
    },
  };
}
