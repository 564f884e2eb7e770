import { describe, expect, it } from 'vitest'
import { FATAL_EXIT_CODE, onFatal } from '../../../src/daemon/fatal.js'

describe('onFatal: an error nothing caught is our own bug', () => {
  it('logs it loudly with its stack and exits with EX_SOFTWARE, for exceptions and rejections', () => {
    const lines: string[] = []
    const codes: number[] = []
    const fatal = onFatal({ line: text => { lines.push(text) }, exit: code => { codes.push(code) } })
    fatal(new TypeError('x is undefined'), 'uncaughtException')
    fatal('a plain string', 'unhandledRejection')
    expect(codes).toEqual([FATAL_EXIT_CODE, FATAL_EXIT_CODE])
    expect(lines[0]).toMatch(/^fatal: an uncaught exception, a bug in paired .*TypeError: x is undefined\n\s+at /s)
    expect(lines[1]).toMatch(/^fatal: an unhandled rejection, .*a plain string$/)
  })

  it('exits even when logging fails', () => {
    const codes: number[] = []
    const fatal = onFatal({ line: () => { throw new Error('stderr closed') }, exit: code => { codes.push(code) } })
    expect(() => { fatal(new Error('bug'), 'uncaughtException') }).toThrow(/stderr closed/)
    expect(codes).toEqual([FATAL_EXIT_CODE])
  })
})
