/** `paired ping PEER`: a libp2p round trip to a peer (peer id or member name). */
import type { CommandArgs, CommandContext } from '../context.js'
import { formatRtt } from '../format.js'

export const usage = 'ping PEER'
export const summary = 'round-trip time to a peer (its peer id or member name)'
export const args = ['PEER'] as const

export async function run (parsed: CommandArgs, ctx: CommandContext): Promise<number | undefined> {
  const pong = await (await ctx.client()).get<{ peerId: string, rttMs: number }>(`peers/${encodeURIComponent(parsed.positionals[0])}/ping`)
  ctx.result(pong, () => `pong from ${pong.peerId} in ${formatRtt(pong.rttMs)}`)
  return undefined
}
