/** R-22 range and validator rules for content over HTTP (RFC 9110 §13, §14), pure. */
import t from 'tap';
import { coalesce, etagOf, ifRangeAllows, MAX_RANGES, multipartPlan, noneMatchHits, parseRange } from '../../content/http-range.js';

t.test('R-22 single ranges: first-last, open-ended, suffix, clamped end', async (t) => {
  t.same(parseRange(undefined, 100), { kind: 'whole' });
  t.same(parseRange('bytes=0-9', 100), { kind: 'partial', ranges: [{ start: 0, end: 9 }] });
  t.same(parseRange('bytes=90-', 100), { kind: 'partial', ranges: [{ start: 90, end: 99 }] });
  t.same(parseRange('bytes=-10', 100), { kind: 'partial', ranges: [{ start: 90, end: 99 }] });
  t.same(parseRange('bytes=-500', 100), { kind: 'partial', ranges: [{ start: 0, end: 99 }] }, 'a suffix longer than the file is all of it');
  t.same(parseRange('bytes=50-5000', 100), { kind: 'partial', ranges: [{ start: 50, end: 99 }] }, 'end clamped to the last byte');
  t.same(parseRange('BYTES = 1-1', 100), { kind: 'partial', ranges: [{ start: 1, end: 1 }] }, 'unit is case-insensitive');
});

t.test('R-22 multiple ranges are sorted and merged when they overlap or touch', async (t) => {
  t.same(parseRange('bytes=0-1,4-5', 10), { kind: 'partial', ranges: [{ start: 0, end: 1 }, { start: 4, end: 5 }] });
  t.same(parseRange('bytes=4-5,0-1', 10), { kind: 'partial', ranges: [{ start: 0, end: 1 }, { start: 4, end: 5 }] });
  t.same(parseRange('bytes=0-4,2-6,7-7', 10), { kind: 'partial', ranges: [{ start: 0, end: 7 }] });
  t.same(coalesce([{ start: 5, end: 6 }, { start: 0, end: 1 }, { start: 1, end: 3 }]), [{ start: 0, end: 3 }, { start: 5, end: 6 }]);
  t.same(parseRange('bytes=0-1, 200-300', 10), { kind: 'partial', ranges: [{ start: 0, end: 1 }] }, 'a range past the end is dropped when another is inside');
});

t.test('R-22 R-32 bad ranges: bad syntax is ignored (whole file), unsatisfiable is 416', async (t) => {
  for (const bad of ['bytes=', 'bytes=-', 'bytes=a-b', 'items=0-1', 'bytes=5-3', 'bytes=1-2-3', 'bytes=0-1,x', 'bytes=9999999999999999-', '0-1'])
    t.same(parseRange(bad, 100), { kind: 'whole' }, `${bad} → whole`);
  t.match(parseRange('bytes=100-', 100), { kind: 'unsatisfiable' }, 'starts at the end');
  t.match(parseRange('bytes=200-300', 100), { kind: 'unsatisfiable' });
  t.match(parseRange('bytes=-0', 100), { kind: 'unsatisfiable' }, 'an empty suffix selects nothing');
  t.match(parseRange('bytes=0-0', 0), { kind: 'unsatisfiable' }, 'nothing is inside an empty file');
  const many = Array.from({ length: MAX_RANGES + 1 }, (_, i) => `${i * 2}-${i * 2}`).join(',');
  t.match(parseRange(`bytes=${many}`, 1000), { kind: 'unsatisfiable', reason: /at most 32/ }, 'too many parts is refused, not amplified');
});

t.test('R-22 ETag, If-None-Match and If-Range', async (t) => {
  const tag = etagOf('ab'.repeat(32));
  t.equal(tag, `"${'ab'.repeat(32)}"`);
  t.ok(noneMatchHits(tag, tag));
  t.ok(noneMatchHits(`"x", W/${tag}`, tag), 'weak comparison, any in the list');
  t.ok(noneMatchHits('*', tag));
  t.notOk(noneMatchHits('"other"', tag));
  t.notOk(noneMatchHits(undefined, tag));
  t.ok(ifRangeAllows(undefined, tag));
  t.ok(ifRangeAllows(tag, tag));
  t.notOk(ifRangeAllows('"stale"', tag), 'a stale If-Range means the whole file');
});

t.test('R-22 multipart/byteranges layout has an exact length', async (t) => {
  const plan = multipartPlan([{ start: 0, end: 1 }, { start: 5, end: 9 }], 10, 'application/octet-stream', 'B');
  t.equal(plan.contentType, 'multipart/byteranges; boundary=B');
  const body = `--B\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 0-1/10\r\n\r\nXX\r\n--B\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 5-9/10\r\n\r\nYYYYY\r\n--B--\r\n`;
  t.equal(plan.length, Buffer.byteLength(body));
  t.equal(plan.parts[0]!.head + 'XX' + plan.parts[1]!.head + 'YYYYY' + plan.tail, body);
});
