/** `paired kv list [PREFIX]`: the keys of the team's shared key-value state. */
import type { KvEntryDoc } from '../../model/docs.js'
import type { CommandArgs, CommandContext } from '../context.js'
import { oneLineValue, shortId, table, truncate } from '../format.js'

export const usage = 'kv list [PREFIX]'
export const summary = 'the keys (under PREFIX) with their values'
export const details = [
  'Values are cut to 60 characters; --json prints the whole entries',
  '[{key, value, updatedBy, hlc}].'
].join('\n')
export const optionalArgs = 1

/** widest VALUE cell */
export const VALUE_WIDTH = 60

export async function run (parsed: CommandArgs, ctx: CommandContext): Promise<number | undefined> {
  const prefix = parsed.positionals[0] ?? ''
  const query = prefix === '' ? '' : `?prefix=${encodeURIComponent(prefix)}`
  const entries = await (await ctx.client()).get<KvEntryDoc[]>(`kv/list${query}`)
  ctx.result(entries, () => entries.length === 0
    ? (prefix === '' ? 'no keys' : `no keys under ${prefix}`)
    : table(
      ['KEY', 'VALUE', 'UPDATED BY'],
      entries.map(e => [e.key, truncate(oneLineValue(e.value), VALUE_WIDTH), shortId(e.updatedBy)])
    ))
  return undefined
}
