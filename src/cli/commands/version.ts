/** `paired version` (and `paired --version`): the package version. */
import type { CommandArgs, CommandContext } from '../context.js'
import { packageVersion } from '../../model/version.js'

export const usage = 'version'
export const summary = 'the version of paired (also: paired --version)'

export async function run (_args: CommandArgs, ctx: CommandContext): Promise<number | undefined> {
  const version = await packageVersion()
  ctx.result({ version }, () => version)
  return undefined
}
