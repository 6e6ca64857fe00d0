// A caller's X-Request-Id is kept only when it is one well-formed value; anything else gets a fresh id.
import t from 'tap';
import { acceptOrGenerateRequestId } from '../../../src/http/request-id.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

t.test('well-formed ids are kept', async (t) => {
  for (const id of ['abc', 'req-1', 'A.b_C-9', 'x'.repeat(128), '0', ['only-one']]) {
    t.equal(acceptOrGenerateRequestId(id), Array.isArray(id) ? id[0] : id, JSON.stringify(id).slice(0, 40));
  }
});

t.test('missing, malformed, oversized or duplicated ids are replaced', async (t) => {
  const bad: Array<string | string[] | undefined> = [
    undefined,
    '',
    'x'.repeat(129),
    'a b',
    'a,b',
    'a, b',
    'a/b',
    'a\r\nX-Admin: 1',
    'a\u0000',
    'zo\u00eb',
    '{"$ne":1}',
    ['a', 'b'],
    ['a', 'a'],
    [],
    ['x'.repeat(129)],
  ];
  const seen = new Set<string>();
  for (const value of bad) {
    const id = acceptOrGenerateRequestId(value);
    t.match(id, UUID, `${JSON.stringify(value)?.slice(0, 40)} → generated`);
    seen.add(id);
  }
  t.equal(seen.size, bad.length, 'each generated id is fresh');
});
