/** `paired help [COMMAND]`: the overview, or one command's usage. */
import type { CommandArgs, CommandContext } from '../context.js'

export const usage = 'help [COMMAND]'
export const summary = 'this overview, the commands of a group, or the usage of one command'
/** `help team invite revoke` */
export const optionalArgs = 3

export async function run (parsed: CommandArgs, ctx: CommandContext): Promise<number | undefined> {
  const text = ctx.usage(parsed.positionals.length > 0 ? parsed.positionals.join(' ') : undefined)
  ctx.result({ usage: text }, () => text)
  return undefined
}
