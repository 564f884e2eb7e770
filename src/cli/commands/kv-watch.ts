/**
 * `paired kv watch [PREFIX]`: one line per change of a key under PREFIX, from the
 * daemon's event stream, until SIGINT (exit 0) or until the daemon goes away (exit 3).
 */
import type { KvEntryDoc } from '../../model/docs.js'
import { DaemonNotRunningError } from '../../errors.js'
import type { CommandArgs } from '../context.js'
import { oneLineValue } from '../format.js'
import type { KvCommandContext } from './kv-io.js'

export const usage = 'kv watch [PREFIX]'
export const summary = 'print each change of a key (under PREFIX) as it happens'
export const details = [
  'Prints "KEY = VALUE" for a write and "KEY (deleted)" for a deletion, until Ctrl-C.',
  'With --json: NDJSON, one JSON document per line {key, value, updatedBy, hlc, deleted?},',
  'not one document in all. Exits 3 when the daemon stops. A dropped stream resumes where it',
  'was; when the daemon no longer holds the changes it missed, a line on stderr says so.'
].join('\n')
export const optionalArgs = 1

/** the `data` of a `kv:changed` event */
export type KvChange = KvEntryDoc & { deleted?: boolean }

function isChange (data: unknown): data is KvChange {
  return typeof data === 'object' && data != null && typeof (data as { key?: unknown }).key === 'string'
}

/** `KEY = VALUE`, or `KEY (deleted)` */
export function formatChange (change: KvChange): string {
  return change.deleted === true ? `${change.key} (deleted)` : `${change.key} = ${oneLineValue(change.value)}`
}

export async function run (parsed: CommandArgs, ctx: KvCommandContext): Promise<number | undefined> {
  const prefix = parsed.positionals[0] ?? ''
  const client = await ctx.client()
  const interrupt = new AbortController()
  const onSigint = (): void => { interrupt.abort() }
  const signal = ctx.signal != null ? AbortSignal.any([ctx.signal, interrupt.signal]) : interrupt.signal
  process.once('SIGINT', onSigint)
  try {
    await client.events('events', event => {
      if (event.type === 'reset') {
        const why = (event.data as { message?: unknown } | null)?.message
        ctx.err(`paired: some changes were missed${typeof why === 'string' ? ` (${why})` : ''}; list the current values with: paired kv list ${prefix}`.trimEnd())
        return
      }
      if (event.type !== 'kv:changed' || !isChange(event.data) || !event.data.key.startsWith(prefix)) return
      ctx.out(ctx.json ? JSON.stringify(event.data) : formatChange(event.data))
    }, signal)
  } finally {
    process.off('SIGINT', onSigint)
  }
  if (signal.aborted) return undefined
  throw new DaemonNotRunningError(`the daemon for home ${ctx.home} closed the event stream (it stopped, or this watch fell too far behind)`)
}
