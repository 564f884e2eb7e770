/** `paired query PEER`: a peer's own status document, fetched over libp2p. */
import type { StatusDoc } from '../../model/docs.js'
import type { CommandArgs, CommandContext } from '../context.js'
import { formatStatus } from '../format.js'

export const usage = 'query PEER'
export const summary = 'a peer\'s own status, fetched from it over libp2p'
export const args = ['PEER'] as const

export async function run (parsed: CommandArgs, ctx: CommandContext): Promise<number | undefined> {
  const doc = await (await ctx.client()).get<StatusDoc>(`peers/${encodeURIComponent(parsed.positionals[0])}/status`)
  ctx.result(doc, () => formatStatus(doc))
  return undefined
}
