/**
 * `paired kv set KEY VALUE`: write one key of the team's shared key-value state;
 * `paired kv set --stdin`: write many, one `KEY VALUE` line each, in batches.
 */
import { checkKey, checkValue } from '../../api/kv-validate.js'
import type { KvEntryDoc, KvWrite } from '../../model/docs.js'
import { UsageError, flag } from '../args.js'
import type { CommandArgs, CommandOptions } from '../context.js'
import type { KvCommandContext } from './kv-io.js'

/** most entries in one `kv/set-many` request of `--stdin` */
export const STDIN_BATCH_ENTRIES = 1000
/** largest `kv/set-many` request body of `--stdin` */
export const STDIN_BATCH_BYTES = 4 * 1024 * 1024

export const usage = 'kv set (KEY VALUE | --stdin) [--json-value]'
export const summary = 'write a key (or many, from stdin)'
export const details = [
  '  --json-value   parse VALUE as JSON (a number, an object...) instead of a string',
  '  --stdin        read lines "KEY VALUE": the value is the rest of the line after the',
  '                 first spaces or tabs; blank lines and lines starting with # are skipped.',
  '                 Every line is checked before anything is written; the lines are then',
  `                 sent in batches of at most ${STDIN_BATCH_ENTRIES} entries / 4 MiB, each one atomic.`,
  'Keys are 1 to 512 bytes without control characters; a value is at most 1 MiB of JSON.',
  'With --json: the entry {key, value, updatedBy, hlc}; with --stdin, {count}.'
].join('\n')
export const optionalArgs = 2
export const options: CommandOptions = {
  'json-value': { type: 'boolean' },
  stdin: { type: 'boolean' }
}

function parseJson (text: string, what: string): unknown {
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new UsageError(`${what} is not valid JSON (--json-value): ${(err as Error).message}`)
  }
}

/** runs `check`; an error it throws gets `line N: ` in front of its message, same name */
function atLine<T> (line: number, check: () => T): T {
  try {
    return check()
  } catch (err) {
    if (err instanceof Error && !err.message.startsWith('line ')) err.message = `line ${line}: ${err.message}`
    throw err
  }
}

/**
 * The writes of `--stdin` text: `KEY VALUE` lines, blank lines and `#` comments skipped.
 * Every key and value is checked; an error names its line.
 */
export function parseKvLines (text: string, jsonValue = false): KvWrite[] {
  const writes: KvWrite[] = []
  const lines = text.replace(/^\uFEFF/, '').split('\n')
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1
    const line = lines[i].replace(/\r$/, '').replace(/^[ \t]+/, '')
    if (line === '' || line.startsWith('#')) continue
    const match = /^([^ \t]+)[ \t]+(.*)$/s.exec(line)
    if (match == null || match[2] === '') {
      throw new UsageError(`line ${n}: no value after the key "${/^[^ \t]*/.exec(line)?.[0] ?? line}" (each line is KEY VALUE)`)
    }
    const key = atLine(n, () => checkKey(match[1]))
    const value = jsonValue ? parseJson(match[2], `line ${n}: VALUE`) : match[2]
    writes.push({ key, value: atLine(n, () => checkValue(value, key)) })
  }
  return writes
}

/** `writes` in order, in batches of at most `maxEntries` and `maxBytes` of request body */
export function batchWrites (writes: readonly KvWrite[], maxEntries = STDIN_BATCH_ENTRIES, maxBytes = STDIN_BATCH_BYTES): KvWrite[][] {
  const empty = Buffer.byteLength(JSON.stringify({ entries: [] }))
  const batches: KvWrite[][] = []
  let batch: KvWrite[] = []
  let bytes = empty
  for (const write of writes) {
    // the entry and the comma before it
    const size = Buffer.byteLength(JSON.stringify(write)) + 1
    if (batch.length > 0 && (batch.length >= maxEntries || bytes + size > maxBytes)) {
      batches.push(batch)
      batch = []
      bytes = empty
    }
    batch.push(write)
    bytes += size
  }
  if (batch.length > 0) batches.push(batch)
  return batches
}

async function readText (input: AsyncIterable<string | Uint8Array>): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of input) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk))
  return Buffer.concat(chunks).toString('utf8')
}

async function setFromStdin (jsonValue: boolean, ctx: KvCommandContext): Promise<void> {
  const writes = parseKvLines(await readText(ctx.stdin ?? process.stdin), jsonValue)
  let count = 0
  if (writes.length > 0) {
    const client = await ctx.client()
    for (const batch of batchWrites(writes)) {
      try {
        count += (await client.post<{ count: number }>('kv/set-many', { entries: batch })).count
      } catch (err) {
        if (count > 0 && err instanceof Error) err.message += ` (${count} of ${writes.length} entries were written before this)`
        throw err
      }
    }
  }
  ctx.result({ count }, () => `set ${count} key${count === 1 ? '' : 's'}`)
}

export async function run (parsed: CommandArgs, ctx: KvCommandContext): Promise<number | undefined> {
  const jsonValue = flag(parsed, 'json-value')
  const [key, text] = parsed.positionals
  if (flag(parsed, 'stdin')) {
    if (key != null) throw new UsageError(`unexpected argument '${key}': kv set --stdin reads KEY VALUE lines from stdin`)
    await setFromStdin(jsonValue, ctx)
    return undefined
  }
  if (key == null) throw new UsageError('missing KEY: paired kv set KEY VALUE')
  if (text == null) throw new UsageError('missing VALUE: paired kv set KEY VALUE')
  const write = { key: checkKey(key), value: jsonValue ? parseJson(text, 'VALUE') : text }
  checkValue(write.value, write.key)
  const entry = await (await ctx.client()).post<KvEntryDoc>('kv/set', write)
  ctx.result(entry, () => `set ${entry.key}`)
  return undefined
}
