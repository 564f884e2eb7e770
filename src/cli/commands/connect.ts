/** `paired connect MULTIADDR`: dial a peer by address. */
import type { CommandArgs, CommandContext } from '../context.js'

export const usage = 'connect MULTIADDR'
export const summary = 'dial a peer at a multiaddr (it must be in this daemon\'s team)'
export const args = ['MULTIADDR'] as const

export async function run (parsed: CommandArgs, ctx: CommandContext): Promise<number | undefined> {
  const result = await (await ctx.client()).post<{ peerId: string }>('connect', { multiaddr: parsed.positionals[0] })
  ctx.result(result, () => `connected to ${result.peerId}`)
  return undefined
}
