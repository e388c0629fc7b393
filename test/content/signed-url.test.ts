/** R-22 R-31 signed content URLs: a site secret, an expiry, the exact path; forgeries and expired links refused. */
import t from 'tap';
import { checkSignature, signedQuery, signPath } from '../../content/signed-url.js';

const SECRET = Buffer.alloc(32, 7);
const PATH = '/content/PS100001/1/setup.exe';

t.test('R-22 a signed path checks until its expiry', async (t) => {
  const q = new URLSearchParams(signedQuery(SECRET, PATH, 1000));
  t.equal(q.get('expires'), '1000');
  t.same(checkSignature(SECRET, PATH, q.get('expires'), q.get('sig'), 999), { ok: true });
  t.same(checkSignature(SECRET, PATH, q.get('expires'), q.get('sig'), 1000), { ok: true }, 'valid through the expiry second');
  t.same(checkSignature(SECRET, PATH, q.get('expires'), q.get('sig'), 1001), { ok: false, reason: 'the link has expired' });
});

t.test('R-31 R-32 forged, altered and malformed signatures are refused', async (t) => {
  const sig = signPath(SECRET, PATH, 5000);
  const refused = (path: string, expires: unknown, s: unknown, why: RegExp, secret = SECRET) => t.match(checkSignature(secret, path, expires, s, 0), { ok: false, reason: why });
  refused('/content/PS100001/1/other.exe', '5000', sig, /does not match/);
  refused(PATH, '5001', sig, /does not match/);
  refused(PATH, '5000', sig, /does not match/, Buffer.alloc(32, 8));
  refused(PATH, '5000', `${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}`, /does not match/);
  refused(PATH, '5000', undefined, /not a signature/);
  refused(PATH, '5000', 'short', /not a signature/);
  refused(PATH, '5000', ['a', 'b'], /not a signature/);
  refused(PATH, '-1', sig, /unix seconds/);
  refused(PATH, '1e9', sig, /unix seconds/);
  refused(PATH, undefined, sig, /unix seconds/);
});
