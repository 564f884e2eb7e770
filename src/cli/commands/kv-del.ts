/** `paired kv del KEY`: delete a key of the team's shared key-value state. */
import type { CommandArgs, CommandContext } from '../context.js'

export const usage = 'kv del KEY'
export const summary = 'delete a key (no error when there is none)'
export const details = 'With --json: {key, deleted}; deleted is false when the key did not exist.'
export const args = ['KEY'] as const

export async function run (parsed: CommandArgs, ctx: CommandContext): Promise<number | undefined> {
  const result = await (await ctx.client()).post<{ key: string, deleted: boolean }>('kv/del', { key: parsed.positionals[0] })
  ctx.result(result, () => result.deleted ? `deleted ${result.key}` : `no key ${result.key} (nothing deleted)`)
  return undefined
}
