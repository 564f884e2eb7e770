/** `paired status`: this daemon's status document. */
import type { StatusDoc } from '../../model/docs.js'
import type { CommandArgs, CommandContext } from '../context.js'
import { formatStatus } from '../format.js'

export const usage = 'status'
export const summary = 'this daemon: peer id, team, addresses, connected peers'

export async function run (_args: CommandArgs, ctx: CommandContext): Promise<number | undefined> {
  const doc = await (await ctx.client()).get<StatusDoc>('status')
  ctx.result(doc, () => formatStatus(doc))
  return undefined
}
