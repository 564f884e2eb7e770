/**
 * Disk full, for real: the store on a 4 MiB tmpfs in a private mount namespace. Writes are
 * refused with StoreFullError, the process stays up and keeps reading, and once space
 * returns writes succeed again with everything acknowledged intact, also after a restart.
 *
 * Needs root, `unshare` and `mount` (else skipped, saying why); the child runs the compiled
 * store from `dist/` (`npm test` builds first).
 */
import { execFileSync, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { describe, expect, it } from 'vitest'
import { TEAM, tempDir } from './helpers.js'

const DIST = fileURLToPath(new URL('../../../../dist', import.meta.url))
const CHILD = fileURLToPath(new URL('./fixtures/disk-full-child.mjs', import.meta.url))
const TMPFS_SIZE = '4m'
const FILLER_BYTES = 2.5 * 1024 * 1024

function whyNot (): string | undefined {
  if (process.platform !== 'linux') return 'not Linux'
  if (process.getuid?.() !== 0) return 'not root (a tmpfs mount needs it)'
  if (!existsSync(join(DIST, 'state/store/op-log.js'))) return 'dist/state/store/op-log.js is missing (run `npm run build`)'
  try {
    execFileSync('unshare', ['-m', '--', 'mount', '-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', '/mnt'], { stdio: 'ignore' })
  } catch {
    return '`unshare -m` + `mount -t tmpfs` do not work here'
  }
  return undefined
}

const skip = whyNot()
if (skip !== undefined) console.log(`disk-full.test: skipped, ${skip}`)

interface Report {
  full?: { name: string, message: string, at: number }
  refusals: string[]
  missingWhileFull: number
  stateHashWhileFull: string
  afterFree: string[]
  missingAfterFree: number
  missingAfterRestart: number
  head: number
  acked: number
  unhandled: number
}

describe('disk full', () => {
  it.skipIf(skip !== undefined)('refuses writes with StoreFullError, keeps reading, resumes when space returns', async () => {
    const key = await generateKeyPair('Ed25519')
    const peerId = peerIdFromPrivateKey(key).toString()
    const seedHex = Buffer.from(key.raw.subarray(0, 32)).toString('hex')
    const dir = await tempDir('disk-full')
    const child = spawn('unshare', [
      '-m', '--', 'sh', '-c', `mount -t tmpfs -o size=${TMPFS_SIZE} tmpfs "$0" && exec "$@"`,
      dir, process.execPath, CHILD, DIST, dir, TEAM, peerId, seedHex, String(FILLER_BYTES)
    ], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    child.stderr.on('data', (d: Buffer) => { err += d.toString() })
    const code = await new Promise(resolve => child.on('exit', resolve))
    expect(err).toBe('')
    expect(code).toBe(0) // the process stayed up and finished on its own
    const report = JSON.parse(out.trim().split('\n').pop() ?? '{}') as Report
    expect(report.full?.name).toBe('StoreFullError')
    expect(report.full?.message).toBe(`the disk holding ${join(dir, 'db')} is full: write refused, nothing acknowledged`)
    expect(report.full?.at).toBeGreaterThan(10)
    expect(report.refusals).toEqual(Array(5).fill('StoreFullError'))
    expect(report.missingWhileFull).toBe(0)
    expect(report.stateHashWhileFull).toBe('string')
    expect(report.afterFree).toEqual(Array(20).fill('ok'))
    expect(report.missingAfterFree).toBe(0)
    expect(report.missingAfterRestart).toBe(0)
    expect(report.head).toBe(report.acked)
    expect(report.unhandled).toBe(0)
  }, 60_000)
})
