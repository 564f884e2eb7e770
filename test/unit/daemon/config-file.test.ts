import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { configWithName } from '../../../src/daemon/config.js'
import { rememberName } from '../../../src/daemon/config-file.js'

describe('configWithName (pure)', () => {
  it('sets the name and keeps every other key; undefined when unchanged', () => {
    expect(JSON.parse(configWithName(undefined, 'alice') ?? '')).toEqual({ name: 'alice' })
    const text = JSON.stringify({ apiPort: 5000, name: 'old', labels: { os: 'linux' } })
    expect(JSON.parse(configWithName(text, 'alice') ?? '')).toEqual({ apiPort: 5000, name: 'alice', labels: { os: 'linux' } })
    expect(configWithName(JSON.stringify({ name: 'alice' }), 'alice')).toBeUndefined()
  })

  it('refuses a bad name with the key named', () => {
    expect(() => configWithName(undefined, '')).toThrow(/config key "name"/)
    expect(() => configWithName(undefined, 'x'.repeat(65))).toThrow(/config key "name"/)
  })
})

describe('rememberName', () => {
  let home: string
  beforeEach(async () => { home = await mkdtemp(join(tmpdir(), 'paired-config-file-')) })
  afterEach(async () => { await rm(home, { recursive: true, force: true }) })

  it('creates config.json 0600, then updates only the name', async () => {
    const path = join(home, 'config.json')
    expect(await rememberName(path, 'alice')).toBe(true)
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ name: 'alice' })
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    await writeFile(path, JSON.stringify({ name: 'alice', slots: 2 }))
    expect(await rememberName(path, 'alice')).toBe(false)
    expect(await rememberName(path, 'bob')).toBe(true)
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ name: 'bob', slots: 2 })
  })
})
