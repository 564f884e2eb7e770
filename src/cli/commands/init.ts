/** `paired init [--name N]`: create the home folder, key and config (idempotent). */
import { stringOption } from '../args.js'
import type { CommandArgs, CommandContext, CommandOptions } from '../context.js'

export const usage = 'init [--name N]'
export const summary = 'create the home folder: key and config (safe to repeat; --name renames)'
export const options: CommandOptions = { name: { type: 'string' } }

export async function run (args: CommandArgs, ctx: CommandContext): Promise<number | undefined> {
  const { initHome } = await import('../../daemon/index.js')
  const result = await initHome({ home: ctx.home, name: stringOption(args, 'name') })
  const name = stringOption(args, 'name')
  ctx.result({ peerId: result.peerId, home: result.home, created: result.created, renamed: result.renamed }, () => result.created
    ? `initialized ${result.home}: peer id ${result.peerId}`
    : `${result.home} is already initialized: peer id ${result.peerId}` +
      (result.renamed ? `; its name is now "${name ?? ''}" (a running daemon takes it at its next start)` : ''))
  return undefined
}
