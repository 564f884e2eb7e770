/** `paired peers`: the peers this daemon knows. */
import type { PeerDoc } from '../../model/docs.js'
import type { CommandArgs, CommandContext } from '../context.js'
import { formatRtt, shortId, table } from '../format.js'

export const usage = 'peers'
export const summary = 'the peers this daemon knows, connected or not'

function address (peer: PeerDoc): string {
  if (peer.addresses.length === 0) return '-'
  return peer.addresses.length === 1 ? peer.addresses[0] : `${peer.addresses[0]} (+${peer.addresses.length - 1})`
}

function slots (peer: PeerDoc): string {
  const c = peer.capacity as { slots?: number, running?: number } | null
  return c == null ? '-' : `${c.running ?? 0}/${c.slots ?? 0}`
}

function reputation (peer: PeerDoc): string {
  return peer.reputation == null ? '-' : `${peer.reputation.toFixed(2)} ${peer.reputationStatus ?? ''}`.trim()
}

export async function run (_args: CommandArgs, ctx: CommandContext): Promise<number | undefined> {
  const peers = await (await ctx.client()).get<PeerDoc[]>('peers')
  ctx.result(peers, () => peers.length === 0
    ? 'no known peers'
    : table(
      ['PEER', 'NAME', 'STATE', 'RTT', 'SLOTS', 'REPUTATION', 'ADDRESS'],
      peers.map(p => [shortId(p.peerId), p.name ?? '-', p.state, formatRtt(p.rttMs), slots(p), reputation(p), address(p)])
    ))
  return undefined
}
