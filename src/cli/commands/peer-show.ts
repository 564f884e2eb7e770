/** `paired peer show PEER`: one peer's state, capacity and the history behind its reputation. */
import type { PeerDetailDoc } from '../../model/docs.js'
import type { CommandArgs, CommandContext } from '../context.js'
import { formatRtt, keyValues, table } from '../format.js'

export const usage = 'peer show PEER'
export const summary = 'one peer: state, capacity, RTT, reputation and the events behind it'
export const details = 'PEER is a peer id, a member\'s name, or the last characters of a member\'s peer id.'
export const args = ['PEER'] as const

function capacityLine (capacity: Record<string, unknown> | null): string {
  if (capacity == null) return '-'
  const c = capacity as { cores?: number, load1?: number, memFreeMb?: number, slots?: number, running?: number, queued?: number, power?: string }
  return `${c.cores ?? '?'} cores, load ${c.load1 ?? '?'}, ${c.memFreeMb ?? '?'} MB free, ${c.running ?? 0}/${c.slots ?? 0} slots busy, ${c.queued ?? 0} queued, power ${c.power ?? 'unknown'}`
}

export function formatPeer (p: PeerDetailDoc): string {
  const head = keyValues([
    ['peer', p.peerId],
    ['name', p.name ?? '-'],
    ['role', p.role ?? '-'],
    ['state', p.state],
    ['connected', p.connected ? 'yes' : 'no'],
    ['rtt', formatRtt(p.rttMs)],
    ['capacity', capacityLine(p.capacity)],
    ['agents', p.agents.length > 0 ? p.agents.join(', ') : '-'],
    ['reputation', p.reputation == null ? '-' : `${p.reputation.toFixed(2)} (${p.reputationStatus ?? 'unknown'})`],
    ['gossip score', p.gossipScore == null ? '-' : p.gossipScore.toFixed(1)],
    ['addresses', p.addresses.length > 0 ? p.addresses : ['-']]
  ])
  if (p.reputationHistory.length === 0) return `${head}\nno reputation events yet`
  const rows = p.reputationHistory.map(e => [new Date(e.at).toISOString(), e.event, e.score.toFixed(2), e.status])
  return `${head}\n\n${table(['WHEN', 'EVENT', 'SCORE', 'STATUS'], rows)}`
}

export async function run (parsed: CommandArgs, ctx: CommandContext): Promise<number | undefined> {
  const peer = await (await ctx.client()).get<PeerDetailDoc>(`peers/${encodeURIComponent(parsed.positionals[0])}`)
  ctx.result(peer, () => formatPeer(peer))
  return undefined
}
