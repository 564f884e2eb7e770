/** `paired peer`: the commands about one peer. */
import type { CommandArgs, CommandContext } from '../context.js'

export const usage = 'peer show PEER'
export const summary = 'one peer in detail (see: paired peer show)'

export async function run (_args: CommandArgs, ctx: CommandContext): Promise<number | undefined> {
  ctx.out('usage: paired peer show PEER   (one peer: state, capacity, RTT, reputation and its history)')
  return undefined
}
