/**
 * `respond(datagram, via, config, decide)`: one received datagram → what to send, or why not.
 * decode → classify → decide → build → encode, with every "no" a value carrying its stage and
 * reason (DESIGN.md lesson 4). No sockets, no logger, no clock: the service does those.
 */
import type { Buffer } from 'node:buffer';
import { WireError, decodeDhcp, encodeDhcp, type DhcpPacket } from '../wire/dhcp/index.js';
import { classify, type PxeFacts, type Via } from './classify.js';
import { buildReply, replyDestination, type PxeDecision, type ReplyConfig, type ReplyRouting, type ReplyTarget } from './offer.js';

export interface RespondConfig extends ReplyConfig, ReplyRouting {}

export type Outcome =
  | {
      readonly kind: 'reply';
      readonly request: DhcpPacket;
      readonly facts: PxeFacts;
      readonly reply: DhcpPacket;
      readonly bytes: Buffer;
      readonly target: ReplyTarget;
    }
  | {
      readonly kind: 'ignore';
      readonly stage: 'decode' | 'classify' | 'decide';
      readonly reason: string;
      /** The WireError code when decoding failed. */
      readonly code?: string;
      readonly request?: DhcpPacket;
      readonly facts?: PxeFacts;
    };

export async function respond(
  datagram: Buffer,
  via: Via,
  config: RespondConfig,
  decide: (facts: PxeFacts) => Promise<PxeDecision>,
): Promise<Outcome> {
  let request: DhcpPacket;
  try {
    request = decodeDhcp(datagram);
  } catch (e) {
    if (e instanceof WireError) return { kind: 'ignore', stage: 'decode', reason: e.message, code: e.code };
    throw e;
  }
  const classified = classify(request, via);
  if (classified.kind === 'ignore') return { kind: 'ignore', stage: 'classify', reason: classified.reason, request };
  const facts = classified.facts;
  const decision = await decide(facts);
  if (!decision.answer) return { kind: 'ignore', stage: 'decide', reason: decision.reason, request, facts };
  const reply = buildReply(request, classified, decision, config)!;
  return { kind: 'reply', request, facts, reply, bytes: encodeDhcp(reply), target: replyDestination(request, via, config) };
}
