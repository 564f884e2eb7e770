/**
 * Splits a child's stderr into lines for `onLog`, with a cap on lines and bytes per run.
 */
import { StringDecoder } from 'node:string_decoder'
import { LOG_TRUNCATED_LINE, MAX_LOG_BYTES, MAX_LOG_LINES } from './constants.js'
import { callHook } from './outcome.js'

export interface LogLinesInit {
  /** @default MAX_LOG_LINES */
  maxLines?: number
  /** @default MAX_LOG_BYTES */
  maxBytes?: number
}

/**
 * Feed it chunks with `push`, then `end()` once the stream closes: each complete line
 * (without its `\n` or `\r\n`) goes to `onLine`, then the partial last line. Past the cap
 * it sends `LOG_TRUNCATED_LINE` once and drops the rest.
 */
export class LogLines {
  private readonly decoder = new StringDecoder('utf8')
  private readonly onLine: ((line: string) => void) | undefined
  private pending = ''
  private linesLeft: number
  private bytesLeft: number
  private truncated = false

  constructor (onLine: ((line: string) => void) | undefined, init: LogLinesInit = {}) {
    this.onLine = onLine
    this.linesLeft = init.maxLines ?? MAX_LOG_LINES
    this.bytesLeft = init.maxBytes ?? MAX_LOG_BYTES
  }

  push (chunk: Buffer): void {
    if (this.truncated || this.onLine == null) return
    this.pending += this.decoder.write(chunk)
    let newline = this.pending.indexOf('\n')
    while (newline !== -1 && !this.truncated) {
      this.emit(this.pending.slice(0, newline))
      this.pending = this.pending.slice(newline + 1)
      newline = this.pending.indexOf('\n')
    }
    // a line longer than what is left can never be sent whole (characters <= bytes)
    if (!this.truncated && this.pending.length > this.bytesLeft) this.truncate()
  }

  end (): void {
    if (this.truncated || this.onLine == null) return
    this.pending += this.decoder.end()
    if (this.pending !== '') this.emit(this.pending)
    this.pending = ''
  }

  private emit (raw: string): void {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw
    const bytes = Buffer.byteLength(line) + 1
    if (this.linesLeft < 1 || bytes > this.bytesLeft) {
      this.truncate()
      return
    }
    this.linesLeft--
    this.bytesLeft -= bytes
    callHook(this.onLine, line)
  }

  private truncate (): void {
    this.truncated = true
    this.pending = ''
    callHook(this.onLine, LOG_TRUNCATED_LINE)
  }
}
