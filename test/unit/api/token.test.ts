import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ensureApiToken, readApiToken } from '../../../src/api/index.js'

describe('api token file', () => {
  let dir: string
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'paired-token-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  it('creates 32 random bytes as hex, mode 0600 despite a loose umask, and keeps it', async () => {
    const path = join(dir, 'api.token')
    const old = process.umask(0o000)
    let token: string
    try {
      token = await ensureApiToken(path)
    } finally {
      process.umask(old)
    }
    expect(token).toMatch(/^[0-9a-f]{64}$/)
    expect(((await stat(path)).mode & 0o777).toString(8)).toBe('600')
    expect(await ensureApiToken(path)).toBe(token)
    expect(await readApiToken(path)).toBe(token)
    expect(await ensureApiToken(join(dir, 'other.token'))).not.toBe(token)
  })

  it('tightens the mode of an existing token file and replaces one that holds no token', async () => {
    const path = join(dir, 'api.token')
    const good = 'ab'.repeat(32)
    await writeFile(path, good + '\n')
    await chmod(path, 0o644)
    expect(await ensureApiToken(path)).toBe(good)
    expect(((await stat(path)).mode & 0o777).toString(8)).toBe('600')
    await writeFile(path, 'garbage')
    const fresh = await ensureApiToken(path)
    expect(fresh).toMatch(/^[0-9a-f]{64}$/)
  })

  it('readApiToken: undefined when missing or empty', async () => {
    expect(await readApiToken(join(dir, 'none'))).toBeUndefined()
    await writeFile(join(dir, 'empty'), '\n')
    expect(await readApiToken(join(dir, 'empty'))).toBeUndefined()
  })
})
