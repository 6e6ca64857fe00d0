// Seeded generator of mutated HTTP/1.1 requests: request line, header names and values, framing conflicts, chunked
// bodies, smuggling shapes.

/** mulberry32: tiny, fast, and the same sequence for the same seed on every machine. */
export function createRandom(seed: number): {
  next(): number;
  int(n: number): number;
  pick<T>(xs: readonly T[]): T;
  bytes(n: number): Buffer;
} {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return {
    next,
    int,
    pick: <T>(xs: readonly T[]): T => xs[int(xs.length)]!,
    bytes: (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(256))),
  };
}

export type Rng = ReturnType<typeof createRandom>;

export interface FuzzCase {
  index: number;
  labels: string[];
  bytes: Buffer;
  /** Carries an embedded request for /smuggled that must never reach the upstream on its own. */
  smuggle: boolean;
}

interface Draft {
  /** The case number, also named by the embedded request so the upstream's copy can be traced back. */
  index: number;
  line: string;
  headers: string[];
  body: string;
  eol: string;
}

const smuggled = (d: Draft): string => `GET /smuggled/${d.index} HTTP/1.1\r\nHost: localhost\r\n\r\n`;

function baseDraft(rng: Rng, i: number): Draft {
  const kind = rng.int(3);
  const headers = ['Host: localhost', `X-Fuzz: ${i}`, 'Accept: */*'];
  if (kind === 0)
    return { line: `GET /fuzz/${i}?q=${rng.int(1000)} HTTP/1.1`, headers, body: '', eol: '\r\n', index: i };
  if (kind === 1)
    return {
      line: `POST /fuzz/${i} HTTP/1.1`,
      headers: [...headers, 'Content-Length: 11'],
      body: 'hello world',
      eol: '\r\n',
      index: i,
    };
  return {
    line: `POST /fuzz/${i} HTTP/1.1`,
    headers: [...headers, 'Transfer-Encoding: chunked'],
    body: '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n',
    eol: '\r\n',
    index: i,
  };
}

type Mutator = (d: Draft, rng: Rng) => string | { smuggle: true; label: string };

const CTL = ['\x00', '\x01', '\x07', '\x08', '\x0b', '\x0c', '\x1b', '\x7f', '\r', '\n', '\xff'];

const mutators: Record<string, Mutator> = {
  'method-garbage': (d, rng) => {
    d.line = d.line.replace(/^\S+/, rng.pick(['G ET', 'GET\x00', 'get', '', 'PROPFIND', 'G\x7fT', '(GET)', 'GET/']));
    return 'method';
  },
  'target-odd': (d, rng) => {
    d.line = d.line.replace(
      / \S+ /,
      ` ${rng.pick(['*', 'http://evil.example/x', '//x', '/a b', '/a\tb', '/%00', '/\x00', '/a#frag', '', '/' + 'a'.repeat(20_000), '/..%2f..', '/\xff'])} `,
    );
    return 'target';
  },
  'version-odd': (d, rng) => {
    d.line = d.line.replace(
      /HTTP\/1\.1$/,
      rng.pick(['HTTP/1.0', 'HTTP/2.0', 'http/1.1', 'HTTP/1.1 ', 'HTTP/1.10', 'HTTP/9', '']),
    );
    return 'version';
  },
  'line-spaces': (d, rng) => {
    d.line = d.line.replace(/ /g, rng.pick(['  ', '\t', ' \t', '\x0b']));
    return 'line-ws';
  },
  'name-space-colon': (d, rng) => {
    d.headers.push(rng.pick(['X-A : b', 'Transfer-Encoding : chunked', 'Content-Length : 3', ' X-A: b', 'X A: b']));
    return 'name-ws';
  },
  'name-bad-char': (d, rng) => {
    d.headers.push(`X-${rng.pick(['(', ')', '/', '[', '"', '\x00', '\x7f', '\xe9', '@', '='])}A: b`);
    return 'name-char';
  },
  'empty-name': (d) => {
    d.headers.push(': value');
    return 'empty-name';
  },
  'value-ctl': (d, rng) => {
    d.headers.push(`X-Ctl: a${rng.pick(CTL)}b`);
    return 'value-ctl';
  },
  'obs-fold': (d, rng) => {
    d.headers.push('X-Fold: a', rng.pick([' folded', '\tfolded', ' Transfer-Encoding: chunked']));
    return 'obs-fold';
  },
  'bare-lf': (d, rng) => {
    d.eol = rng.pick(['\n', '\r', '\r\r\n', '\n\r']);
    return 'eol';
  },
  'one-bare-lf': (d, rng) => {
    const k = rng.int(d.headers.length);
    d.headers[k] = `${d.headers[k]}\nX-Injected: 1`;
    return 'one-bare-lf';
  },
  'nul-anywhere': (d, rng) => {
    const k = rng.int(d.headers.length);
    const h = d.headers[k]!;
    const at = rng.int(h.length + 1);
    d.headers[k] = h.slice(0, at) + '\x00' + h.slice(at);
    return 'nul';
  },
  'oversize-value': (d, rng) => {
    d.headers.push(`X-Big: ${'v'.repeat(rng.pick([8_000, 17_000, 70_000, 200_000]))}`);
    return 'oversize-value';
  },
  'many-headers': (d, rng) => {
    for (let k = 0; k < rng.pick([120, 1_000, 3_000]); k += 1) d.headers.push(`X-H${k}: ${k}`);
    return 'many-headers';
  },
  'no-host': (d) => {
    d.headers = d.headers.filter((h) => !/^host:/i.test(h));
    return 'no-host';
  },
  'two-hosts': (d) => {
    d.headers.push('Host: other.example');
    return 'two-hosts';
  },
  'cl-duplicate': (d, rng) => {
    d.headers = d.headers.filter((h) => !/^(content-length|transfer-encoding):/i.test(h));
    d.body = 'hello world';
    d.headers.push('Content-Length: 11', `Content-Length: ${rng.pick(['11', '0', '5', '11 '])}`);
    return 'cl-dup';
  },
  'cl-list': (d, rng) => {
    d.headers = d.headers.filter((h) => !/^(content-length|transfer-encoding):/i.test(h));
    d.body = 'hello world';
    d.headers.push(
      `Content-Length: ${rng.pick(['11, 11', '11,5', '+11', '0x0b', '11.0', '-1', '1e1', '99999999999999999999', ' 11', '011'])}`,
    );
    return 'cl-odd';
  },
  'cl-and-te': (d, rng) => {
    d.headers = d.headers.filter((h) => !/^(content-length|transfer-encoding):/i.test(h));
    d.body = '0\r\n\r\n' + smuggled(d);
    d.headers.push(
      `Content-Length: ${d.body.length}`,
      `Transfer-Encoding: ${rng.pick(['chunked', ' chunked', 'Chunked', 'chunked, identity'])}`,
    );
    return { smuggle: true, label: 'CL.TE' };
  },
  'te-and-cl': (d, rng) => {
    d.headers = d.headers.filter((h) => !/^(content-length|transfer-encoding):/i.test(h));
    const inner = `${smuggled(d)}`;
    d.body = `${inner.length.toString(16)}\r\n${inner}\r\n0\r\n\r\n`;
    d.headers.push(`Transfer-Encoding: ${rng.pick(['chunked', 'chunked ', 'CHUNKED'])}`, 'Content-Length: 4');
    return { smuggle: true, label: 'TE.CL' };
  },
  'te-obfuscated': (d, rng) => {
    d.headers = d.headers.filter((h) => !/^(content-length|transfer-encoding):/i.test(h));
    d.body = '0\r\n\r\n' + smuggled(d);
    d.headers.push(
      `Content-Length: ${d.body.length}`,
      rng.pick([
        'Transfer-Encoding: xchunked',
        'Transfer-Encoding: chunked\x0b',
        'Transfer-Encoding:\tchunked',
        'Transfer-Encoding: identity, chunked',
        'Transfer-Encoding: chunked, chunked',
        'Transfer-encoding: cow',
        'Transfer_Encoding: chunked',
        'Transfer-Encoding : chunked',
        'Transfer-Encoding:\n chunked',
        'X: y\nTransfer-Encoding: chunked',
      ]),
    );
    return { smuggle: true, label: 'TE-obfuscated' };
  },
  'te-twice': (d) => {
    d.headers = d.headers.filter((h) => !/^(content-length|transfer-encoding):/i.test(h));
    d.body = '0\r\n\r\n' + smuggled(d);
    d.headers.push('Transfer-Encoding: chunked', 'Transfer-Encoding: identity', `Content-Length: ${d.body.length}`);
    return { smuggle: true, label: 'TE.TE' };
  },
  'chunk-bad': (d, rng) => {
    d.headers = d.headers.filter((h) => !/^(content-length|transfer-encoding):/i.test(h));
    d.headers.push('Transfer-Encoding: chunked');
    d.body = rng.pick([
      'zz\r\nhello\r\n0\r\n\r\n',
      '5\r\nhelloXX0\r\n\r\n',
      'fffffffffffffffffff\r\nx\r\n0\r\n\r\n',
      '-5\r\nhello\r\n0\r\n\r\n',
      '5 \r\nhello\r\n0\r\n\r\n',
      '5;a=\x00\r\nhello\r\n0\r\n\r\n',
      '5\nhello\n0\n\n',
      '0x5\r\nhello\r\n0\r\n\r\n',
      '5\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n',
      '5\r\nhello\r\n0\r\n\r\n' + smuggled(d),
      '+5\r\nhello\r\n0\r\n\r\n',
      '5\r\nhello\r\n00000000000000000000000\r\n\r\n',
    ]);
    return 'chunk-bad';
  },
  'flip-bytes': () => 'flip',
  'random-request': () => 'random',
};

function render(d: Draft): string {
  return `${d.line}${d.eol}${d.headers.map((h) => `${h}${d.eol}`).join('')}${d.eol}${d.body}`;
}

export function generateCase(rng: Rng, index: number): FuzzCase {
  const d = baseDraft(rng, index);
  const labels: string[] = [];
  let smuggle = false;
  let flip = false;
  let random = false;
  const names = Object.keys(mutators);
  const count = 1 + rng.int(3);
  for (let k = 0; k < count; k += 1) {
    const name = rng.pick(names);
    const out = mutators[name]!(d, rng);
    if (typeof out === 'string') {
      labels.push(out);
      if (out === 'flip') flip = true;
      if (out === 'random') random = true;
    } else {
      labels.push(out.label);
      smuggle = true;
    }
  }
  if (random) return { index, labels, bytes: rng.bytes(1 + rng.int(600)), smuggle };
  let bytes = Buffer.from(render(d), 'latin1');
  if (flip) {
    bytes = Buffer.from(bytes);
    for (let k = 0; k < 1 + rng.int(4); k += 1) {
      const at = rng.int(bytes.length);
      const op = rng.int(3);
      if (op === 0) bytes[at] = rng.int(256);
      else if (op === 1) bytes = Buffer.concat([bytes.subarray(0, at), rng.bytes(1 + rng.int(3)), bytes.subarray(at)]);
      else bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
    }
  }
  return { index, labels, bytes, smuggle };
}
