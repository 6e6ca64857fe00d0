// The upstream's response head as relayed (pure function over undici's raw name/value pairs), with expectations
// written out by hand: names lower-cased whatever their spelling, repeated names kept in order, hop-by-hop names
// and every name listed in any Connection header left out.
import t from 'tap';
import { relayableHeaderObject, relayableResponseHeaders } from '../../../src/upstream/response-headers.js';

const raw = (...pairs: string[]): Buffer[] => pairs.map((p) => Buffer.from(p, 'latin1'));

t.test('spelling, repeats, hop-by-hop and Connection-listed names', async (t) => {
  const headers = relayableResponseHeaders(
    raw(
      'Content-Type',
      'text/plain',
      'SET-COOKIE',
      'a=1',
      'Set-Cookie',
      'b=2',
      'set-cookie',
      'c=3',
      'Connection',
      'keep-alive, X-Hop-One',
      'CONNECTION',
      'x_hop_two',
      'Keep-Alive',
      'timeout=5',
      'Transfer-Encoding',
      'chunked',
      'X-Hop-One',
      'gone',
      'x-hop-two',
      'gone too',
      'X-Custom-Header-Nobody-Knows',
      'Kept As Is',
      'Content-Length',
      '4',
      'Date',
      'Sat, 28 Nov 2026 18:00:00 GMT',
      'X-Latin1',
      'caf\u00e9',
    ),
  );
  t.same(headers, {
    'content-type': 'text/plain',
    'set-cookie': ['a=1', 'b=2', 'c=3'],
    'x-custom-header-nobody-knows': 'Kept As Is',
    'content-length': '4',
    date: 'Sat, 28 Nov 2026 18:00:00 GMT',
    'x-latin1': 'caf\u00e9',
  });
});

t.test('a Connection header naming only the usual tokens removes nothing else', async (t) => {
  t.same(relayableResponseHeaders(raw('Connection', 'close', 'Server', 'nginx', 'Host', 'upstream')), {
    server: 'nginx',
    host: 'upstream',
  });
  t.same(relayableResponseHeaders([]), {});
});

// The same policy over a head Node already parsed (node:http2 streams, node:http responses): one list for every kind.
t.test(
  'a parsed head: hop-by-hop, Connection-listed and pseudo-headers left out, :status kept on request',
  async (t) => {
    const parsed = {
      ':status': '200',
      'content-type': 'application/grpc',
      connection: 'close, X-Hop-One, x_hop_two',
      'keep-alive': 'timeout=5',
      'proxy-connection': 'keep-alive',
      te: 'trailers',
      trailer: 'grpc-status',
      'http2-settings': 'AAMAAABkAAQAoAAAAAIAAAAA',
      upgrade: 'h2c',
      'transfer-encoding': 'chunked',
      'x-hop-one': 'gone',
      'x-hop-two': 'gone too',
      'set-cookie': ['a=1', 'b=2'],
      host: 'upstream',
      'content-length': '4',
    };
    const expected = {
      'content-type': 'application/grpc',
      'set-cookie': ['a=1', 'b=2'],
      host: 'upstream',
      'content-length': '4',
    };
    t.same(relayableHeaderObject(parsed), expected);
    t.same(relayableHeaderObject(parsed, { keepStatus: true }), { ':status': '200', ...expected });
    t.same(relayableHeaderObject({ ':status': '204', ':path': '/x', 'grpc-status': '0' }, { keepStatus: true }), {
      ':status': '204',
      'grpc-status': '0',
    });
  },
);

t.test(
  'a name listed by a Connection header that comes after it is left out too; the rest keep their order',
  async (t) => {
    const headers = relayableResponseHeaders(
      raw(
        'X-Early',
        'gone',
        'Server',
        'nginx',
        'x_early',
        'gone too',
        'Connection',
        'X-Early',
        'Date',
        'today',
        'Vary',
        'a',
      ),
    );
    t.same(headers, { server: 'nginx', date: 'today', vary: 'a' });
    t.same(Object.keys(headers), ['server', 'date', 'vary'], 'in the order the upstream sent them');
  },
);
