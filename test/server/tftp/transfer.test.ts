/**
 * R-21 the pure read-transfer state machine and option negotiation, driven event by event with
 * no sockets and no clock: negotiation table (RFC 2347/2348/2349/7440), windows, duplicate ACKs
 * (Sorcerer's Apprentice), timeouts with backoff, block-number rollover and client errors.
 */
import t from 'tap';
import { negotiate, type NegotiationLimits } from '../../../server/tftp/negotiate.js';
import { ReadTransfer, type TransferAction, type TransferConfig } from '../../../server/tftp/transfer.js';

const limits: NegotiationLimits = { maxBlksize: 65464, maxWindowsize: 64, maxWindowBytes: 65536, defaultTimeoutMs: 1000 };

t.test('R-21 option negotiation table', async (t) => {
  const rows: [string, Record<string, string>, Partial<{ blksize: number; windowsize: number; timeoutMs: number }>, Record<string, string>, NegotiationLimits?][] = [
    ['no options: RFC 1350 defaults, no OACK', {}, { blksize: 512, windowsize: 1, timeoutMs: 1000 }, {}],
    ['blksize 1468', { blksize: '1468' }, { blksize: 1468 }, { blksize: '1468' }],
    ['blksize 8 is the RFC 2348 minimum', { blksize: '8' }, { blksize: 8 }, { blksize: '8' }],
    ['blksize 7 is invalid and ignored', { blksize: '7' }, { blksize: 512 }, {}],
    ['blksize 65464 is the maximum', { blksize: '65464' }, { blksize: 65464 }, { blksize: '65464' }],
    ['blksize 70000 is answered with 65464', { blksize: '70000' }, { blksize: 65464 }, { blksize: '65464' }],
    ['blksize over the configured max is clamped', { blksize: '9000' }, { blksize: 1468 }, { blksize: '1468' }, { ...limits, maxBlksize: 1468 }],
    ['blksize not a number is ignored', { blksize: '1k' }, { blksize: 512 }, {}],
    ['blksize negative is ignored', { blksize: '-1' }, { blksize: 512 }, {}],
    ['blksize empty is ignored', { blksize: '' }, { blksize: 512 }, {}],
    ['tsize 0 is answered with the file size (RFC 2349 §4)', { tsize: '0' }, {}, { tsize: '123456' }],
    ['tsize garbage is ignored', { tsize: 'x' }, {}, {}],
    ['timeout 1', { timeout: '1' }, { timeoutMs: 1000 }, { timeout: '1' }],
    ['timeout 255', { timeout: '255' }, { timeoutMs: 255_000 }, { timeout: '255' }],
    ['timeout 0 is out of range', { timeout: '0' }, { timeoutMs: 1000 }, {}],
    ['timeout 256 is out of range', { timeout: '256' }, { timeoutMs: 1000 }, {}],
    ['windowsize 16', { windowsize: '16' }, { windowsize: 16 }, { windowsize: '16' }],
    ['windowsize 65535 is clamped to our max', { windowsize: '65535' }, { windowsize: 64 }, { windowsize: '64' }],
    ['windowsize × blksize is kept within the byte budget', { blksize: '8192', windowsize: '16' }, { blksize: 8192, windowsize: 8 }, { blksize: '8192', windowsize: '8' }],
    ['a window is at least one block', { blksize: '65464', windowsize: '4' }, { windowsize: 1 }, { blksize: '65464', windowsize: '1' }],
    ['windowsize 0 is out of range', { windowsize: '0' }, { windowsize: 1 }, {}],
    ['windowsize 65536 is out of range', { windowsize: '65536' }, { windowsize: 1 }, {}],
    ['unknown options are ignored', { multicast: '', utimeout: '5000', rollover: '0' }, { blksize: 512 }, {}],
    [
      'all together, in the client order',
      { windowsize: '8', tsize: '0', foo: 'bar', blksize: '1456', timeout: '2' },
      { blksize: 1456, windowsize: 8, timeoutMs: 2000 },
      { windowsize: '8', tsize: '123456', blksize: '1456', timeout: '2' },
    ],
  ];
  for (const [name, requested, expected, oack, lim] of rows) {
    const n = negotiate(new Map(Object.entries(requested)), 123456, lim ?? limits);
    t.match(n, expected, name);
    t.same([...n.oack], Object.entries(oack), `${name}: OACK`);
  }
});

function config(over: Partial<TransferConfig> = {}): TransferConfig {
  return { size: 1000, blksize: 512, windowsize: 1, timeoutMs: 1000, maxBackoffMs: 8000, maxRetries: 5, ...over };
}
const sends = (actions: TransferAction[]) => actions.filter((a) => a.kind === 'send-blocks' || a.kind === 'send-oack');
const blocks = (actions: TransferAction[]): [number, number] | null => {
  const s = actions.find((a) => a.kind === 'send-blocks');
  return s && s.kind === 'send-blocks' ? [s.first, s.last] : null;
};

t.test('R-21 without options DATA 1 goes first and the short block ends the transfer', async (t) => {
  const tr = new ReadTransfer(config());
  t.same(tr.step({ kind: 'start' }), [
    { kind: 'send-blocks', first: 1, last: 1, retransmit: false },
    { kind: 'arm-timer', ms: 1000 },
  ]);
  t.same(tr.blockRange(1), { offset: 0, length: 512 });
  t.same(tr.blockRange(2), { offset: 512, length: 488 });
  t.same(blocks(tr.step({ kind: 'ack', block: 1 })), [2, 2]);
  t.same(tr.step({ kind: 'ack', block: 2 }), [{ kind: 'done' }]);
  t.equal(tr.phase, 'done');
  t.same(tr.step({ kind: 'timeout' }), [], 'nothing after done');
});

t.test('R-21 a size that is a multiple of blksize ends with an empty block; an empty file is one empty block', async (t) => {
  const tr = new ReadTransfer(config({ size: 1024 }));
  t.equal(tr.lastBlock, 3);
  t.same(tr.blockRange(3), { offset: 1024, length: 0 });
  const empty = new ReadTransfer(config({ size: 0 }));
  t.equal(empty.lastBlock, 1);
  t.same(empty.blockRange(1), { offset: 0, length: 0 });
  empty.step({ kind: 'start' });
  t.same(empty.step({ kind: 'ack', block: 1 }), [{ kind: 'done' }]);
});

t.test('R-21 the OACK is block 0: only ACK 0 starts the data (RFC 2347 §3)', async (t) => {
  const oack = new Map([['blksize', '1468']]);
  const tr = new ReadTransfer(config({ oack, blksize: 1468, size: 5000 }));
  t.same(tr.step({ kind: 'start' }), [
    { kind: 'send-oack', options: oack },
    { kind: 'arm-timer', ms: 1000 },
  ]);
  t.same(tr.step({ kind: 'ack', block: 1 }), [], 'ACK 1 before DATA 1 is ignored');
  t.same(tr.step({ kind: 'timeout' }), [{ kind: 'send-oack', options: oack }, { kind: 'arm-timer', ms: 2000 }], 'a lost OACK is resent');
  t.same(blocks(tr.step({ kind: 'ack', block: 0 })), [1, 1]);
  t.same(tr.step({ kind: 'ack', block: 0 }), [], 'a second ACK 0 is a duplicate');
});

t.test('R-21 duplicate ACKs never trigger a retransmission (Sorcerer’s Apprentice)', async (t) => {
  const tr = new ReadTransfer(config({ size: 10 * 512 }));
  tr.step({ kind: 'start' });
  t.same(blocks(tr.step({ kind: 'ack', block: 1 })), [2, 2]);
  for (let i = 0; i < 5; i++) t.same(tr.step({ kind: 'ack', block: 1 }), [], `duplicate ACK 1 #${i + 1}: no action`);
  t.equal(tr.stats.duplicateAcks, 5);
  t.same(tr.step({ kind: 'ack', block: 7 }), [], 'an ACK for a block never sent is ignored');
  t.same(blocks(tr.step({ kind: 'ack', block: 2 })), [3, 3]);
  t.equal(tr.stats.blocksRetransmitted, 0);
});

t.test('R-21 windowsize: a window per ACK, restarted after the last ACKed block (RFC 7440 §4)', async (t) => {
  const tr = new ReadTransfer(config({ size: 20 * 512 + 7, windowsize: 4, oack: new Map([['windowsize', '4']]) }));
  tr.step({ kind: 'start' });
  t.same(blocks(tr.step({ kind: 'ack', block: 0 })), [1, 4]);
  t.same(blocks(tr.step({ kind: 'ack', block: 4 })), [5, 8]);
  const gap = tr.step({ kind: 'ack', block: 6 });
  t.same(gap[0], { kind: 'send-blocks', first: 7, last: 10, retransmit: true }, 'a mid-window ACK restarts after it');
  t.same(tr.step({ kind: 'ack', block: 6 }), [], 'the same ACK again is a duplicate');
  t.same(tr.step({ kind: 'ack', block: 5 }), [], 'an older ACK is stale');
  t.same(blocks(tr.step({ kind: 'timeout' })), [7, 10], 'a timeout resends the window from the last ACKed block');
  t.same(blocks(tr.step({ kind: 'ack', block: 10 })), [11, 14]);
  t.same(blocks(tr.step({ kind: 'ack', block: 14 })), [15, 18]);
  t.same(blocks(tr.step({ kind: 'ack', block: 18 })), [19, 21], 'the last window stops at the last block');
  t.same(tr.step({ kind: 'ack', block: 21 }), [{ kind: 'done' }]);
  t.equal(tr.stats.blocksRetransmitted, 2 + 4);
});

t.test('R-21 timeouts back off exponentially, reset on progress, and give up after the retry limit', async (t) => {
  const tr = new ReadTransfer(config({ size: 4000, maxRetries: 5 }));
  tr.step({ kind: 'start' });
  const waits: number[] = [];
  const timeout = () => {
    const a = tr.step({ kind: 'timeout' });
    const timer = a.find((x) => x.kind === 'arm-timer');
    if (timer && timer.kind === 'arm-timer') waits.push(timer.ms);
    return a;
  };
  timeout();
  timeout();
  t.same(waits, [2000, 4000]);
  t.same(blocks(tr.step({ kind: 'ack', block: 1 })), [2, 2]);
  t.same(tr.step({ kind: 'ack', block: 2 }).find((a) => a.kind === 'arm-timer'), { kind: 'arm-timer', ms: 1000 }, 'progress resets the backoff');
  waits.length = 0;
  for (let i = 0; i < 5; i++) t.same(sends(timeout()).length, 1, `retry ${i + 1} resends block 3`);
  t.same(waits, [2000, 4000, 8000, 8000, 8000], 'doubling, capped at maxBackoffMs');
  const last = tr.step({ kind: 'timeout' });
  t.same(last, [{ kind: 'fail', reason: 'no answer after 5 retransmissions', error: { code: 0, message: 'transfer timed out' } }]);
  t.equal(tr.phase, 'failed');
  t.same(tr.step({ kind: 'ack', block: 3 }), [], 'a late ACK changes nothing');
  t.equal(tr.stats.timeouts, 8);
});

t.test('R-21 a client ERROR aborts the transfer without an answer (RFC 1350 §7)', async (t) => {
  const tr = new ReadTransfer(config({ oack: new Map([['tsize', '1000']]) }));
  tr.step({ kind: 'start' });
  t.same(tr.step({ kind: 'error', code: 8, message: 'tsize refused' }), [{ kind: 'fail', reason: 'client error 8: tsize refused' }]);
  t.equal(tr.phase, 'failed');
  t.same(tr.step({ kind: 'timeout' }), []);
});

/** Runs a whole transfer with ACKs of the wire block numbers; returns the wire numbers sent. */
function runToEnd(tr: ReadTransfer, ackEveryWindow: boolean): number[] {
  const wire: number[] = [];
  let actions = tr.step({ kind: 'start' });
  for (let guard = 0; guard < 1e7; guard++) {
    const s = actions.find((a) => a.kind === 'send-blocks' || a.kind === 'send-oack' || a.kind === 'done');
    if (!s || s.kind === 'done') break;
    if (s.kind === 'send-oack') {
      actions = tr.step({ kind: 'ack', block: 0 });
      continue;
    }
    for (let b = s.first; b <= s.last; b++) wire.push(ReadTransfer.wireBlock(b));
    actions = tr.step({ kind: 'ack', block: ReadTransfer.wireBlock(ackEveryWindow ? s.last : s.first) });
  }
  return wire;
}

t.test('R-21 block numbers roll over past 65535 to 0 (files over 32 MB at 512-byte blocks)', async (t) => {
  const size = 70_000 * 512 + 100;
  const tr = new ReadTransfer(config({ size }));
  const wire = runToEnd(tr, true);
  t.equal(tr.phase, 'done');
  t.equal(wire.length, 70_001, 'one DATA per block, no retransmission');
  t.same(wire.slice(65533, 65538), [65534, 65535, 0, 1, 2], 'block 65536 goes out as 0');
  t.same(tr.blockRange(70_001), { offset: 70_000 * 512, length: 100 });

  const windowed = new ReadTransfer(config({ size, windowsize: 16, oack: new Map([['windowsize', '16']]) }));
  const w = runToEnd(windowed, true);
  t.equal(windowed.phase, 'done');
  t.equal(w.length, 70_001, 'windows cross the wrap too');
  t.equal(windowed.stats.blocksRetransmitted, 0);

  // Gaps reported across the wrap: every window is ACKed at its first block only.
  const gappy = new ReadTransfer(config({ size: 66_000 * 8, blksize: 8, windowsize: 8, oack: new Map([['windowsize', '8']]) }));
  runToEnd(gappy, false);
  t.equal(gappy.phase, 'done', 'mid-window ACKs map to the right block after the wrap');
});
