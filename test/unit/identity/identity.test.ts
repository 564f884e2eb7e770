import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadOrCreateIdentity } from '../../../src/identity/index.js'

describe('identity', () => {
  let dir = ''
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'paired-id-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  it('creates a 0600 Ed25519 key once and keeps the peer id', async () => {
    const path = join(dir, 'key')
    const first = await loadOrCreateIdentity(path)
    expect(first.created).toBe(true)
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    const again = await loadOrCreateIdentity(path)
    expect(again.created).toBe(false)
    expect(again.identity.peerId.toString()).toBe(first.identity.peerId.toString())
    expect(again.identity.privateKey.type).toBe('Ed25519')
  })

  it('refuses a damaged key with a clear message instead of replacing it', async () => {
    const path = join(dir, 'key')
    await writeFile(path, 'garbage')
    await expect(loadOrCreateIdentity(path)).rejects.toThrow(/unreadable.*move it away/)
  })
})
