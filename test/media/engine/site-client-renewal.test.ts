/**
 * Issue 13: an agent started with an enrollment token works on the per-boot token registration
 * gives it. That token lasts 24 h; an agent running longer registers again when the site stops
 * taking it, instead of falling back to a token that may read no policy. Against a real HTTP site
 * whose clock the test moves.
 */
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { SiteClient, SiteRefused } from '../../../media/engine/site-client.js';
import { apiHarness, computer } from '../../fixtures/api-harness.js';

const MAC = '02:aa:bb:00:01:20';
const HOUR = 3_600_000;

t.test('issue 13: an expired boot token is renewed by registering again; without renewal the call is refused', async (t) => {
  const h = await apiHarness(t);
  await h.app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
  const pc = await computer(h, 'AGENT-1', { macAddresses: [MAC] });
  const enroll = await h.call('POST', '/tokens', { body: { name: 'enrollment', role: 'client', scope: 'enroll' } });
  t.equal(enroll.status, 201, 'an enrollment token');
  const facts = { macAddresses: [MAC], smbiosUuid: null, architecture: 'x64' };

  for (const renew of [true, false]) {
    const site = new SiteClient(url, String(enroll.json.token), 5_000);
    const reg = await site.register(facts);
    t.equal(reg.computer.id, pc);
    site.useToken(reg.bootToken);
    const first = site.currentToken;
    t.match(first, /^osdb_/, 'working on the boot token registration gave');
    t.ok((await site.clientPolicy(pc, 0)) !== null, 'its policy is readable');
    let registrations = 0;
    if (renew)
      site.renewWith(async () => {
        registrations++;
        return (await site.register(facts)).bootToken;
      });

    h.clock.advance(25 * HOUR);
    if (renew) {
      const policy = await site.clientPolicy(pc, 0);
      t.ok(policy !== null, 'a day later the policy is still read');
      t.equal(registrations, 1, 'after registering once more');
      t.match(site.currentToken, /^osdb_/, 'on a new boot token');
      t.not(site.currentToken, first, 'not the expired one');
    } else {
      const refused = await site.clientPolicy(pc, 0).then(() => null, (e: unknown) => e);
      t.ok(refused instanceof SiteRefused, 'without renewal the enrollment token reads no policy');
      t.match(refused, { status: 403 });
    }
  }
});
