// Header names compare lower-cased with `_` as `-`, and Connection tokens are read the same way.
import t from 'tap';
import {
  listsToken,
  normalizeHeaderName,
  parseConnectionTokens,
  STRIPPED_HEADER_NAMES,
} from '../../../src/http/header-sanitize.js';

t.test('names normalize to lower case with dashes', async (t) => {
  t.equal(normalizeHeaderName('X_Client_Subject'), 'x-client-subject');
  t.equal(normalizeHeaderName('x_CLIENT_subject'), 'x-client-subject');
  t.equal(normalizeHeaderName('X-Client-Subject'), 'x-client-subject');
  t.equal(normalizeHeaderName('accept'), 'accept');
});

t.test('Connection tokens: any case, `_` variants, arrays, blanks; framing, host and upgrade protected', async (t) => {
  t.equal(parseConnectionTokens(undefined), null);
  t.equal(parseConnectionTokens(' , ,'), null);
  t.same(
    [...(parseConnectionTokens('x-client-cn, X_Client_URI ,keep-alive') ?? [])],
    ['x-client-cn', 'x-client-uri', 'keep-alive'],
  );
  t.same([...(parseConnectionTokens(['A_B', 'c']) ?? [])], ['a-b', 'c']);
  t.equal(parseConnectionTokens('Upgrade, Content-Length, Transfer_Encoding, HOST'), null);
  t.ok(listsToken('keep-alive, Upgrade', 'upgrade'));
  t.ok(listsToken(['x', ' WebSocket '], 'websocket'));
  t.notOk(listsToken('upgrades', 'upgrade'));
  t.notOk(listsToken(undefined, 'upgrade'));
});

t.test('the stripped set covers the README list and is normalized', async (t) => {
  for (const name of [
    'x-client-subject',
    'x-client-cn',
    'x-client-serial',
    'x-client-fingerprint-sha256',
    'x-client-uri',
    'x-client-dns',
    'x-client-not-after',
    'x-forwarded-client-cert',
    'client-cert',
    'client-cert-chain',
    'x-forwarded-for',
    'x-forwarded-proto',
    'x-forwarded-host',
    'x-request-id',
    'connection',
    'keep-alive',
    'proxy-connection',
  ]) {
    t.ok(STRIPPED_HEADER_NAMES.has(name), name);
  }
  for (const name of STRIPPED_HEADER_NAMES) t.equal(normalizeHeaderName(name), name);
  for (const kept of ['host', 'content-length', 'transfer-encoding', 'upgrade', 'te', 'authorization', 'cookie']) {
    t.notOk(STRIPPED_HEADER_NAMES.has(kept), `${kept} is not blanket-stripped`);
  }
});
