/**
 * Frames refused from peers, per protocol: each {@link ProtocolError} raised on a frame a
 * peer sent is counted here and logged as `protocol violation <protocol> <field>` (debug
 * namespace `paired:protocol`, so `DEBUG=paired:protocol` shows every one). The counts are
 * for status, tests and the fuzz test; they cost a map update per refused frame.
 */
import { logger } from '@libp2p/logger'

const log = logger('paired:protocol')
const counts = new Map<string, number>()

/** one frame of `protocol` was refused for `field` ('' for the frame itself) */
export function noteViolation (protocol: string, field: string): void {
  counts.set(protocol, (counts.get(protocol) ?? 0) + 1)
  log('protocol violation %s %s', protocol, field === '' ? '-' : field)
}

/** frames refused so far, per protocol */
export function protocolViolations (): Record<string, number> {
  return Object.fromEntries(counts)
}
