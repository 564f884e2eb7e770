import { describe, expect, it } from 'vitest'
import { LogLines } from '../../../../src/tasks/agents/log-lines.js'
import { LOG_TRUNCATED_LINE } from '../../../../src/tasks/agents/index.js'

function collect (init?: ConstructorParameters<typeof LogLines>[1]): { log: LogLines, lines: string[] } {
  const lines: string[] = []
  return { log: new LogLines(line => lines.push(line), init), lines }
}

describe('LogLines', () => {
  it('splits on \\n and \\r\\n across chunks, and flushes the partial last line', () => {
    const { log, lines } = collect()
    for (const chunk of ['a\nb', 'c\r', '\n\nd']) log.push(Buffer.from(chunk))
    expect(lines).toEqual(['a', 'bc', ''])
    log.end()
    expect(lines).toEqual(['a', 'bc', '', 'd'])
  })

  it('keeps a character split between chunks whole', () => {
    const { log, lines } = collect()
    const bytes = Buffer.from('ü€\n')
    for (const byte of bytes) log.push(Buffer.from([byte]))
    log.end()
    expect(lines).toEqual(['ü€'])
  })

  it('stops after the line cap with one truncation line', () => {
    const { log, lines } = collect({ maxLines: 3 })
    log.push(Buffer.from('1\n2\n3\n4\n5\n'))
    log.push(Buffer.from('6\n'))
    log.end()
    expect(lines).toEqual(['1', '2', '3', LOG_TRUNCATED_LINE])
  })

  it('stops at the byte cap, including on one endless line', () => {
    const capped = collect({ maxBytes: 10 })
    capped.log.push(Buffer.from('1234\n5678\n9\n'))
    capped.log.end()
    expect(capped.lines).toEqual(['1234', '5678', LOG_TRUNCATED_LINE])
    const endless = collect({ maxBytes: 10 })
    endless.log.push(Buffer.from('x'.repeat(11)))
    expect(endless.lines).toEqual([LOG_TRUNCATED_LINE])
    endless.log.push(Buffer.from('more\n'))
    endless.log.end()
    expect(endless.lines).toEqual([LOG_TRUNCATED_LINE])
  })

  it('survives a callback that throws, and no callback at all', () => {
    const log = new LogLines(() => { throw new Error('boom') })
    log.push(Buffer.from('a\nb'))
    log.end()
    const silent = new LogLines(undefined)
    silent.push(Buffer.from('a\n'))
    silent.end()
  })
})
