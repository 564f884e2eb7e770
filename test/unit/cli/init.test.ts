import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../../src/cli/main.js'

async function run (argv: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
  let stdout = ''
  let stderr = ''
  const code = await main(argv, { out: s => { stdout += s }, err: s => { stderr += s }, env: {} })
  return { code, stdout, stderr }
}

describe('paired init', () => {
  let parent: string
  let home: string
  beforeAll(async () => {
    parent = await mkdtemp(join(tmpdir(), 'paired-init-'))
    home = join(parent, 'home')
  })
  afterAll(async () => { await rm(parent, { recursive: true, force: true }) })

  const configName = async (): Promise<unknown> => (JSON.parse(await readFile(join(home, 'config.json'), 'utf8')) as { name?: unknown }).name

  it('--name is set in config.json, and a later --name renames (as daemon --name does)', async () => {
    const first = await run(['init', '--home', home, '--name', 'alice'])
    expect(first.code).toBe(0)
    expect(first.stdout).toMatch(/^initialized .*: peer id 12D3/)
    expect(await configName()).toBe('alice')
    const again = await run(['init', '--home', home])
    expect(again.code).toBe(0)
    expect(await configName()).toBe('alice')
    const renamed = await run(['init', '--home', home, '--name', 'alice-laptop'])
    expect(renamed.code).toBe(0)
    expect(renamed.stdout).toMatch(/already initialized: peer id 12D3\w+; its name is now "alice-laptop" \(a running daemon takes it at its next start\)/)
    expect(await configName()).toBe('alice-laptop')
    const bad = await run(['init', '--home', home, '--name', ''])
    expect(bad.code).toBe(2)
    expect(await configName()).toBe('alice-laptop')
  })

  it('makes an existing home private', async () => {
    await chmod(home, 0o755)
    await chmod(join(home, 'config.json'), 0o644)
    expect((await run(['init', '--home', home])).code).toBe(0)
    expect((await stat(home)).mode & 0o777).toBe(0o700)
    expect((await stat(join(home, 'config.json'))).mode & 0o777).toBe(0o600)
  })
})
