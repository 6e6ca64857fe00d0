// How `--uri` values attach to clients, and which option values `certs init` refuses (exit 78, naming the flag).
import t from 'tap';
import { resolveCertsInitSpec, type CertsInitOptions } from '../../../src/cli/certs-init.js';
import { ConfigError } from '../../../src/errors.js';

const base: CertsInitOptions = { hosts: [], clients: [], uris: [], force: false };
const spec = (o: Partial<CertsInitOptions>): ReturnType<typeof resolveCertsInitSpec> =>
  resolveCertsInitSpec({ ...base, ...o });

t.test('defaults: hosts localhost,127.0.0.1 and one client named "client"', async (t) => {
  t.same(spec({}), { hosts: ['localhost', '127.0.0.1'], clients: [{ name: 'client', uris: [] }] });
});

t.test('a bare URI attaches to the only client, even one made by default', async (t) => {
  t.same(spec({ uris: ['spiffe://example.org/a'] }).clients, [{ name: 'client', uris: ['spiffe://example.org/a'] }]);
  t.same(spec({ clients: ['x'], uris: ['spiffe://e/x?a=b'] }).clients, [{ name: 'x', uris: ['spiffe://e/x?a=b'] }]);
});

t.test('NAME=URI attaches to that client; several URIs per client are kept in order', async (t) => {
  const clients = spec({
    clients: ['a', 'b'],
    uris: ['b=spiffe://e/b', 'a=spiffe://e/a1', 'a=https://a.example/id=1'],
  }).clients;
  t.same(clients, [
    { name: 'a', uris: ['spiffe://e/a1', 'https://a.example/id=1'] },
    { name: 'b', uris: ['spiffe://e/b'] },
  ]);
});

t.test('hosts given comma-joined or repeated are the same; brackets around IPv6 are accepted', async (t) => {
  t.same(spec({ hosts: ['a.example,127.0.0.1', '[::1]'] }).hosts, ['a.example', '127.0.0.1', '[::1]']);
});

const refusals: Array<[string, Partial<CertsInitOptions>, RegExp]> = [
  ['bare URI with two clients', { clients: ['a', 'b'], uris: ['spiffe://e/x'] }, /--uri: .*write NAME=spiffe:\/\/e\/x/],
  ['NAME= for an unknown client', { clients: ['a'], uris: ['zz=spiffe://e/x'] }, /--uri: .*no --client zz/],
  ['relative URI', { uris: ['not a uri'] }, /--uri: "not a uri" is not an absolute ASCII URI/],
  ['non-ASCII URI', { uris: ['spiffe://e/zoë'] }, /--uri: .*ASCII/],
  ['client name with a slash', { clients: ['../evil'] }, /--client: "\.\.\/evil" cannot be used as a file name/],
  ['client named ca', { clients: ['ca'] }, /--client: "ca" would overwrite/],
  ['duplicate client', { clients: ['a', 'a'] }, /--client: "a" is given twice/],
  ['bad host', { hosts: ['bad host!'] }, /--hosts: "bad host!" is neither/],
];

for (const [label, opts, message] of refusals) {
  t.test(`refuses: ${label}`, async (t) => {
    const err = (() => {
      try {
        spec(opts);
        return undefined;
      } catch (e) {
        return e;
      }
    })();
    t.ok(err instanceof ConfigError);
    t.equal((err as ConfigError).exitCode, 78);
    t.match((err as ConfigError).message, message);
  });
}

t.test('every problem is reported at once', async (t) => {
  let problems: string[] = [];
  try {
    spec({ hosts: ['bad host'], clients: ['ca'], uris: ['nope'] });
  } catch (e) {
    problems = (e as ConfigError).problems;
  }
  t.match(problems, [/--hosts/, /--client/, /--uri/]);
  t.equal(problems.length, 3);
});
