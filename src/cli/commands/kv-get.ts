/** `paired kv get KEY`: one value of the team's shared key-value state. */
import type { KvEntryDoc } from '../../model/docs.js'
import { NotFoundError } from '../../errors.js'
import type { CommandArgs, CommandContext } from '../context.js'
import { valueText } from '../format.js'

export const usage = 'kv get KEY'
export const summary = 'print the value of a key (exit 4 when there is none)'
export const details = [
  'A string value prints as it is; any other value as indented JSON.',
  'With --json: the entry {key, value, updatedBy, hlc}.'
].join('\n')
export const args = ['KEY'] as const

/** a 404 about the key itself, not about the route (a daemon older than `kv`) */
export function isMissingKey (err: unknown): boolean {
  const { name, message } = err as { name?: unknown, message?: unknown }
  return name === 'NotFoundError' && !(typeof message === 'string' && message.startsWith('no route '))
}

export async function run (parsed: CommandArgs, ctx: CommandContext): Promise<number | undefined> {
  const key = parsed.positionals[0]
  let entry: KvEntryDoc
  try {
    entry = await (await ctx.client()).get<KvEntryDoc>(`kv/get?key=${encodeURIComponent(key)}`)
  } catch (err) {
    if (isMissingKey(err)) throw new NotFoundError(`no key ${key}`)
    throw err
  }
  ctx.result(entry, () => valueText(entry.value))
  return undefined
}
