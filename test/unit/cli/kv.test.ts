import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ApiServer, ensureApiToken, MAX_KV_VALUE_BYTES } from '../../../src/api/index.js'
import type { KvWrite } from '../../../src/model/docs.js'
import { parseCommandArgs } from '../../../src/cli/args.js'
import { COMMANDS } from '../../../src/cli/commands/index.js'
import type { KvIo } from '../../../src/cli/commands/kv-io.js'
import { batchWrites, parseKvLines } from '../../../src/cli/commands/kv-set.js'
import { makeContext } from '../../../src/cli/context.js'
import { exitCodeFor } from '../../../src/cli/exit-codes.js'
import { main } from '../../../src/cli/main.js'
import { homePaths } from '../../../src/daemon/home.js'
import { PEER_A, StubControl, named } from '../api/helpers.js'

interface Run { code: number, stdout: string, stderr: string }

async function run (argv: string[]): Promise<Run> {
  let stdout = ''
  let stderr = ''
  const code = await main(argv, { out: s => { stdout += s }, err: s => { stderr += s }, env: {} })
  return { code, stdout, stderr }
}

/**
 * One kv command with the inputs `main` cannot pass (stdin, a stop signal): strict
 * arguments, the command's own context plus `io`, and errors as `main` reports them.
 */
async function runKv (name: string, home: string, argv: string[], io: KvIo = {}, onOut?: (text: string) => void): Promise<Run> {
  let stdout = ''
  let stderr = ''
  const command = COMMANDS[name]
  try {
    const args = parseCommandArgs(argv, command.options ?? {})
    const ctx = makeContext({
      home,
      json: args.values.json === true,
      env: {},
      write: { out: s => { stdout += s; onOut?.(stdout) }, err: s => { stderr += s } },
      usage: () => ''
    })
    const code = (await command.run(args, { ...ctx, ...io })) ?? 0
    return { code, stdout, stderr }
  } catch (err) {
    return { code: exitCodeFor(err), stdout, stderr: stderr + `paired: ${(err as Error).message}\n` }
  }
}

async function * chunks (...parts: Array<string | Buffer>): AsyncIterable<string | Uint8Array> {
  for (const part of parts) yield part
}

function oneLine (text: string): string {
  const lines = text.trimEnd().split('\n')
  expect(lines, text).toHaveLength(1)
  return lines[0]
}

describe('kv set --stdin lines (pure)', () => {
  it('KEY VALUE lines: the value is the rest after the first spaces or tabs; blanks and # comments skipped', () => {
    const text = [
      '# settings',
      'color blue',
      '',
      '   ',
      'greeting \t hello,  world  ',
      '  indented yes',
      '\t# an indented comment',
      'path a#b',
      'crlf value\r',
      ''
    ].join('\n')
    expect(parseKvLines(text)).toEqual([
      { key: 'color', value: 'blue' },
      { key: 'greeting', value: 'hello,  world  ' },
      { key: 'indented', value: 'yes' },
      { key: 'path', value: 'a#b' },
      { key: 'crlf', value: 'value' }
    ])
  })

  it('--json-value parses each value', () => {
    expect(parseKvLines('n 42\no {"a": [1, 2]}\ns "text"', true)).toEqual([
      { key: 'n', value: 42 }, { key: 'o', value: { a: [1, 2] } }, { key: 's', value: 'text' }
    ])
    expect(() => parseKvLines('a 1\nb {nope', true)).toThrow(/^line 2: VALUE is not valid JSON/)
  })

  it('errors name the line', () => {
    expect(() => parseKvLines('# c\na 1\n\nlonely\nb 2')).toThrow('line 4: no value after the key "lonely" (each line is KEY VALUE)')
    expect(() => parseKvLines('a 1\ntrailing   ')).toThrow(/^line 2: no value after the key "trailing"/)
    expect(() => parseKvLines(`a 1\n${'k'.repeat(513)} v`)).toThrow(/^line 2: key must be at most 512 UTF-8 bytes/)
    expect(() => parseKvLines('a 1\nb\u0007 2')).toThrow(/^line 2: key must not contain control characters/)
    let error: Error | undefined
    try { parseKvLines(`a 1\nbig ${'x'.repeat(MAX_KV_VALUE_BYTES)}`) } catch (err) { error = err as Error }
    expect(error?.name).toBe('ValueTooLargeError')
    expect(error?.message).toBe('line 2: value of 1048578 bytes is over the 1 MiB limit (key big)')
  })

  it('batches hold at most 1,000 entries and 4 MiB of body, in order', () => {
    const small: KvWrite[] = Array.from({ length: 2500 }, (_, i) => ({ key: `k${i}`, value: String(i) }))
    const batches = batchWrites(small)
    expect(batches.map(b => b.length)).toEqual([1000, 1000, 500])
    expect(batches.flat()).toEqual(small)
    const value = 'x'.repeat(MAX_KV_VALUE_BYTES - 2)
    const big: KvWrite[] = Array.from({ length: 7 }, (_, i) => ({ key: `big${i}`, value }))
    const bigBatches = batchWrites(big)
    expect(bigBatches.map(b => b.length)).toEqual([3, 3, 1])
    for (const batch of bigBatches) expect(Buffer.byteLength(JSON.stringify({ entries: batch }))).toBeLessThanOrEqual(4 * 1024 * 1024)
    expect(batchWrites([])).toEqual([])
  })
})

describe('paired kv against a real ApiServer', () => {
  let home: string
  let control: StubControl
  let server: ApiServer
  const kvSetCalls = (): Array<{ method: string, args: unknown[] }> => control.calls.filter(c => c.method === 'kvSet')

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'paired-cli-kv-'))
    const paths = homePaths(home)
    control = new StubControl()
    server = new ApiServer({ control, token: await ensureApiToken(paths.apiToken), socketPath: paths.apiSocket, events: { retainMs: 0 } })
    await server.start()
  })

  afterAll(async () => {
    await server.stop()
    await rm(home, { recursive: true, force: true })
  })

  beforeEach(() => {
    control.kv.clear()
    control.calls.length = 0
  })

  it('set prints a short line, or the entry with --json', async () => {
    const r = await run(['kv', 'set', 'color', 'deep blue', '--home', home])
    expect(r).toEqual({ code: 0, stdout: 'set color\n', stderr: '' })
    expect(control.calls.at(-1)).toEqual({ method: 'kvSet', args: [[{ key: 'color', value: 'deep blue' }]] })
    const json = await run(['--home', home, '--json', 'kv', 'set', 'count', '42'])
    expect(json.code).toBe(0)
    expect(JSON.parse(json.stdout)).toEqual({ key: 'count', value: '42', updatedBy: PEER_A, hlc: expect.any(String) })
  })

  it('set --json-value writes JSON; invalid JSON is a usage error', async () => {
    expect((await run(['kv', 'set', 'n', '42', '--json-value', '--home', home])).code).toBe(0)
    expect(control.kv.get('n')?.value).toBe(42)
    expect((await run(['kv', 'set', 'o', '{"a":[1,true]}', '--json-value', '--home', home])).code).toBe(0)
    expect(control.kv.get('o')?.value).toEqual({ a: [1, true] })
    const bad = await run(['kv', 'set', 'o', '{a:1}', '--json-value', '--home', home])
    expect(bad.code).toBe(2)
    expect(oneLine(bad.stderr)).toMatch(/^paired: VALUE is not valid JSON \(--json-value\)/)
  })

  it('get prints a string raw, other values as pretty JSON, the entry with --json', async () => {
    await run(['kv', 'set', 'color', 'deep blue', '--home', home])
    await run(['kv', 'set', 'o', '{"a":[1,true]}', '--json-value', '--home', home])
    expect(await run(['kv', 'get', 'color', '--home', home])).toEqual({ code: 0, stdout: 'deep blue\n', stderr: '' })
    expect((await run(['kv', 'get', 'o', '--home', home])).stdout).toBe(JSON.stringify({ a: [1, true] }, null, 2) + '\n')
    const json = await run(['kv', 'get', 'color', '--json', '--home', home])
    expect(JSON.parse(json.stdout)).toEqual(control.kv.get('color'))
  })

  it('get of a missing key: exit 4 and one line "paired: no key K"', async () => {
    const r = await run(['kv', 'get', 'nope', '--home', home])
    expect(r.code).toBe(4)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe('paired: no key nope\n')
    expect((await run(['kv', 'get', 'nope', '--json', '--home', home])).code).toBe(4)
  })

  it('a value over 1 MiB: exit 2 with one line, nothing sent', async () => {
    const r = await run(['kv', 'set', 'big', 'x'.repeat(MAX_KV_VALUE_BYTES - 1), '--home', home])
    expect(r.code).toBe(2)
    expect(oneLine(r.stderr)).toBe('paired: value of 1048577 bytes is over the 1 MiB limit (key big)')
    expect(kvSetCalls()).toHaveLength(0)
    // the same error from the daemon maps to the same exit code
    control.fail = named('ValueTooLargeError', 'value of 2000000 bytes is over the 1 MiB limit (key k)')
    const fromDaemon = await run(['kv', 'set', 'k', 'v', '--home', home])
    expect(fromDaemon.code).toBe(2)
    expect(oneLine(fromDaemon.stderr)).toBe('paired: value of 2000000 bytes is over the 1 MiB limit (key k)')
  })

  it('bad keys and command lines are usage errors (exit 2)', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['kv', 'set'], /^paired: missing KEY: paired kv set KEY VALUE/],
      [['kv', 'set', 'k'], /^paired: missing VALUE: paired kv set KEY VALUE/],
      [['kv', 'set', 'k', 'v', 'extra'], /^paired: unexpected argument 'extra'/],
      [['kv', 'set', '--stdin', 'k'], /^paired: unexpected argument 'k': kv set --stdin reads/],
      [['kv', 'set', 'a\nb', 'v'], /^paired: key must not contain control characters/],
      [['kv', 'get'], /^paired: missing KEY: paired kv get KEY/],
      [['kv', 'get', ''], /^paired: key must not be empty/],
      [['kv', 'del', ''], /^paired: key must not be empty/],
      [['kv', 'list', 'a', 'b'], /^paired: unexpected argument 'b'/],
      [['kv', 'list', 'a\u0001'], /^paired: prefix must not contain control characters/],
      [['kv', 'frobnicate'], /^paired: unknown command 'kv frobnicate'/]
    ]
    for (const [argv, message] of cases) {
      const r = await run([...argv, '--home', home])
      expect(r.code, argv.join(' ')).toBe(2)
      expect(oneLine(r.stderr), argv.join(' ')).toMatch(message)
    }
    expect(kvSetCalls()).toHaveLength(0)
  })

  it('list: KEY / VALUE / UPDATED BY columns, values cut to 60 characters, short ids; JSON with --json', async () => {
    await run(['kv', 'set', 'app/long', 'y'.repeat(100), '--home', home])
    await run(['kv', 'set', 'app/multi', 'two\nlines', '--home', home])
    await run(['kv', 'set', 'app/obj', '{"a":1}', '--json-value', '--home', home])
    await run(['kv', 'set', 'other', 'x', '--home', home])
    const r = await run(['kv', 'list', '--home', home])
    expect(r.code).toBe(0)
    const lines = r.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^KEY +VALUE +UPDATED BY$/)
    expect(lines).toHaveLength(5)
    expect(lines[1]).toMatch(new RegExp(`^app/long +${'y'.repeat(59)}… +…${PEER_A.slice(-8)}$`))
    expect(lines[2]).toMatch(/^app\/multi +"two\\nlines" +…/)
    expect(lines[3]).toMatch(/^app\/obj +\{"a":1\} +…/)
    expect(r.stdout).not.toContain(PEER_A)

    const some = await run(['kv', 'list', 'app/', '--json', '--home', home])
    const entries = JSON.parse(some.stdout) as Array<{ key: string, value: unknown, updatedBy: string }>
    expect(entries.map(e => e.key)).toEqual(['app/long', 'app/multi', 'app/obj'])
    expect(entries[0]).toMatchObject({ value: 'y'.repeat(100), updatedBy: PEER_A })
    expect(control.calls.at(-1)).toEqual({ method: 'kvList', args: ['app/'] })
    expect((await run(['kv', 'list', 'zzz', '--home', home])).stdout).toBe('no keys under zzz\n')
    expect(JSON.parse((await run(['kv', 'list', 'zzz', '--json', '--home', home])).stdout)).toEqual([])
  })

  it('del prints what it did; a missing key is no error', async () => {
    await run(['kv', 'set', 'k', 'v', '--home', home])
    expect(await run(['kv', 'del', 'k', '--home', home])).toEqual({ code: 0, stdout: 'deleted k\n', stderr: '' })
    expect(control.kv.has('k')).toBe(false)
    expect((await run(['kv', 'del', 'k', '--home', home])).stdout).toBe('no key k (nothing deleted)\n')
    expect(JSON.parse((await run(['kv', 'del', 'k', '--json', '--home', home])).stdout)).toEqual({ key: 'k', deleted: false })
  })

  it('the overview and help show the kv commands; watch documents NDJSON', async () => {
    const overview = await run(['help'])
    for (const command of ['kv set [options]', 'kv get KEY', 'kv list [PREFIX]', 'kv del KEY', 'kv watch [PREFIX]']) {
      expect(overview.stdout).toContain(command)
    }
    expect((await run(['help', 'kv', 'set'])).stdout).toMatch(/^usage: paired kv set \(KEY VALUE \| --stdin\) \[--json-value\]/)
    expect((await run(['kv', 'watch', '--help'])).stdout).toMatch(/NDJSON/)
  })

  describe('set --stdin', () => {
    it('sends the lines with kv/set-many and prints the count', async () => {
      const input = '# team settings\ncolor blue\n\ngreeting hello, world\r\n  # done\n'
      const r = await runKv('kv set', home, ['--stdin'], { stdin: chunks(input) })
      expect(r).toEqual({ code: 0, stdout: 'set 2 keys\n', stderr: '' })
      expect(kvSetCalls()).toEqual([{ method: 'kvSet', args: [[{ key: 'color', value: 'blue' }, { key: 'greeting', value: 'hello, world' }]] }])
      const json = await runKv('kv set', home, ['--stdin', '--json', '--json-value'], { stdin: chunks('n 1\n') })
      expect(JSON.parse(json.stdout)).toEqual({ count: 1 })
      expect(control.kv.get('n')?.value).toBe(1)
    })

    it('reads input split anywhere, even inside a character', async () => {
      const bytes = Buffer.from('name Zoë\ncity Zürich\n')
      const r = await runKv('kv set', home, ['--stdin'], { stdin: chunks(bytes.subarray(0, 7), bytes.subarray(7, 16), bytes.subarray(16)) })
      expect(r.code).toBe(0)
      expect(control.kv.get('name')?.value).toBe('Zoë')
      expect(control.kv.get('city')?.value).toBe('Zürich')
    })

    it('a bad line: exit 2 naming the line, and nothing is written', async () => {
      const r = await runKv('kv set', home, ['--stdin'], { stdin: chunks('# c\na 1\n\nlonely\nb 2\n') })
      expect(r.code).toBe(2)
      expect(oneLine(r.stderr)).toBe('paired: line 4: no value after the key "lonely" (each line is KEY VALUE)')
      const tooBig = await runKv('kv set', home, ['--stdin'], { stdin: chunks(`a 1\nbig ${'x'.repeat(MAX_KV_VALUE_BYTES)}\n`) })
      expect(tooBig.code).toBe(2)
      expect(oneLine(tooBig.stderr)).toMatch(/^paired: line 2: value of \d+ bytes is over the 1 MiB limit \(key big\)$/)
      expect(kvSetCalls()).toHaveLength(0)
      expect(control.kv.size).toBe(0)
    })

    it('2,500 lines go in 3 requests of at most 1,000', async () => {
      const input = Array.from({ length: 2500 }, (_, i) => `key${i} value ${i}`).join('\n')
      const r = await runKv('kv set', home, ['--stdin', '--json'], { stdin: chunks(input) })
      expect(r.code).toBe(0)
      expect(JSON.parse(r.stdout)).toEqual({ count: 2500 })
      expect(kvSetCalls().map(c => (c.args[0] as KvWrite[]).length)).toEqual([1000, 1000, 500])
      expect(control.kv.size).toBe(2500)
      expect(control.kv.get('key2499')?.value).toBe('value 2499')
    })

    it('empty input writes nothing', async () => {
      const r = await runKv('kv set', home, ['--stdin'], { stdin: chunks('# nothing\n\n') })
      expect(r).toEqual({ code: 0, stdout: 'set 0 keys\n', stderr: '' })
      expect(kvSetCalls()).toHaveLength(0)
    })

    it('a batch refused part-way says how much was written before', async () => {
      const input = Array.from({ length: 1500 }, (_, i) => `k${i} v`).join('\n')
      const original = control.kvSet.bind(control)
      let n = 0
      control.kvSet = async writes => {
        if (++n === 2) throw named('PermissionDeniedError', 'guests cannot write')
        return await original(writes)
      }
      try {
        const r = await runKv('kv set', home, ['--stdin'], { stdin: chunks(input) })
        expect(r.code).toBe(1)
        expect(oneLine(r.stderr)).toBe('paired: guests cannot write (1000 of 1500 entries were written before this)')
      } finally {
        control.kvSet = original
      }
    })
  })

  describe('watch', () => {
    it('prints changes under the prefix published after it started, until stopped (exit 0)', async () => {
      const stop = new AbortController()
      const before = control.listeners.size
      let seen = ''
      const watching = runKv('kv watch', home, ['app/'], { signal: stop.signal }, text => { seen = text })
      await expect.poll(() => control.listeners.size).toBe(before + 1)
      await run(['kv', 'set', 'app/color', 'blue', '--home', home])
      await run(['kv', 'set', 'other/color', 'red', '--home', home])
      await run(['kv', 'set', 'app/size', '{"w":2}', '--json-value', '--home', home])
      control.publish({ type: 'peer:connected', data: { key: 'app/not-kv' } })
      control.publish({ type: 'kv:changed', data: { key: 'app/text', value: 'two\nlines', updatedBy: PEER_A, hlc: '1' } })
      await run(['kv', 'del', 'app/color', '--home', home])
      await run(['kv', 'set', 'app/last', 'x', '--home', home])
      // one stream, in order: once the last change is printed, every earlier one is too
      await expect.poll(() => seen.endsWith('app/last = x\n')).toBe(true)
      stop.abort()
      const r = await watching
      expect(r.code).toBe(0)
      expect(r.stderr).toBe('')
      expect(r.stdout).toBe([
        'app/color = blue',
        'app/size = {"w":2}',
        'app/text = "two\\nlines"',
        'app/color (deleted)',
        'app/last = x',
        ''
      ].join('\n'))
      await expect.poll(() => control.listeners.size).toBe(before)
    })

    it('--json prints NDJSON: one compact document per line', async () => {
      const stop = new AbortController()
      const before = control.listeners.size
      let seen = ''
      const watching = runKv('kv watch', home, ['--json'], { signal: stop.signal }, text => { seen = text })
      await expect.poll(() => control.listeners.size).toBe(before + 1)
      await run(['kv', 'set', 'a', '{"deep":{"x":[1]}}', '--json-value', '--home', home])
      await run(['kv', 'del', 'a', '--home', home])
      await expect.poll(() => seen.split('\n').length).toBe(3)
      stop.abort()
      const r = await watching
      expect(r.code).toBe(0)
      const lines = r.stdout.trimEnd().split('\n')
      expect(lines).toHaveLength(2)
      expect(JSON.parse(lines[0])).toEqual({ key: 'a', value: { deep: { x: [1] } }, updatedBy: PEER_A, hlc: expect.any(String) })
      expect(JSON.parse(lines[1])).toMatchObject({ key: 'a', deleted: true })
    })

    it('exits 3 with one line when the daemon goes away', async () => {
      const otherHome = await mkdtemp(join(tmpdir(), 'paired-cli-kv-gone-'))
      const paths = homePaths(otherHome)
      const other = new StubControl()
      const otherServer = new ApiServer({ control: other, token: await ensureApiToken(paths.apiToken), socketPath: paths.apiSocket, events: { retainMs: 0 } })
      await otherServer.start()
      try {
        const watching = run(['kv', 'watch', '--home', otherHome])
        await expect.poll(() => other.listeners.size).toBe(1)
        await other.kvSet([{ key: 'k', value: 'v' }])
        await otherServer.stop()
        const r = await watching
        expect(r.code).toBe(3)
        expect(r.stdout).toBe('k = v\n')
        expect(oneLine(r.stderr)).toBe(`paired: the daemon for home ${otherHome} closed the event stream (it stopped, or this watch fell too far behind)`)
        const none = await run(['kv', 'watch', '--home', otherHome])
        expect(none.code).toBe(3)
        expect(oneLine(none.stderr)).toMatch(/^paired: no daemon is running/)
      } finally {
        await otherServer.stop()
        await rm(otherHome, { recursive: true, force: true })
      }
    })
  })
})
