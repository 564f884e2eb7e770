/**
 * The exit code of every error name the code base throws, against the README's table
 * ("exit codes: 2 bad usage or bad input (including every invite error), 3 …").
 */
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { EXIT_CODE_BY_NAME, FAILURE_NAMES, exitCodeFor } from '../../../src/cli/exit-codes.js'

const ROOT = new URL('../../../', import.meta.url).pathname

async function sourceFiles (dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...await sourceFiles(path))
    else if (entry.name.endsWith('.ts')) out.push(path)
  }
  return out
}

/** every `...Error` name given to an error in src/: `name = 'X'`, `name: 'X'`, `.name = 'X'` */
async function thrownNames (): Promise<Set<string>> {
  const names = new Set<string>()
  for (const file of await sourceFiles(join(ROOT, 'src'))) {
    const text = await readFile(file, 'utf8')
    for (const m of text.matchAll(/\bname\s*[=:]\s*'(\w+Error)'/g)) names.add(m[1])
  }
  return names
}

/** the README's "exit codes: 2 …, 3 …, 1 …" sentence as code → meaning */
async function readmeCodes (): Promise<Map<number, string>> {
  const readme = (await readFile(join(ROOT, 'README.md'), 'utf8')).replace(/\s+/g, ' ')
  const sentence = /exit codes: (.*?)\./.exec(readme)?.[1]
  expect(sentence, 'the README names the exit codes').toBeDefined()
  const codes = new Map<number, string>()
  for (const part of (sentence ?? '').split(/,\s*(?=\d\s)/)) {
    const m = /^(\d) (.*)$/.exec(part.trim())
    if (m != null) codes.set(Number(m[1]), m[2])
  }
  return codes
}

const named = (name: string): Error => Object.assign(new Error('x'), { name })

describe('exit codes', () => {
  it('every error name thrown in src/ has a decided exit code', async () => {
    const names = await thrownNames()
    expect(names.size).toBeGreaterThan(20)
    const undecided = [...names].filter(n => !Object.hasOwn(EXIT_CODE_BY_NAME, n) && !FAILURE_NAMES.includes(n))
    expect(undecided, 'add these to a table in src/cli/exit-codes.ts').toEqual([])
  })

  it('the codes are exactly the README\'s, each with the meaning it states', async () => {
    const readme = await readmeCodes()
    const used = new Set([1, ...Object.values(EXIT_CODE_BY_NAME)])
    expect([...used].sort()).toEqual([...readme.keys()].sort())
    expect(readme.get(1)).toMatch(/anything else/)
    expect(readme.get(2)).toMatch(/bad usage or bad input \(including every invite error/)
    expect(readme.get(3)).toMatch(/no daemon/)
    expect(readme.get(4)).toMatch(/not found/)
    expect(readme.get(5)).toMatch(/task failed/)
    for (const [name, code] of Object.entries(EXIT_CODE_BY_NAME)) {
      if (code === 3) expect(name).toMatch(/DaemonNotRunning/)
      if (code === 4) expect(name).toMatch(/NotFound/)
      if (code === 5) expect(name).toMatch(/TaskFailed/)
    }
  })

  it('every invite error, a refused certificate (a revoked invite) and an unknown agent are bad input: 2', async () => {
    const inviteErrors = [...await thrownNames()].filter(n => /Invite|WrongTeam|Certificate/.test(n))
    expect(inviteErrors.length).toBeGreaterThanOrEqual(6)
    for (const name of [...inviteErrors, 'AgentNotServedError', 'InvalidArgumentError', 'UsageError', 'InvalidConfigError', 'ListenAddressError']) {
      expect(exitCodeFor(named(name)), name).toBe(2)
    }
  })

  it('the rest by name; anything unnamed is 1', () => {
    expect(exitCodeFor(named('DaemonNotRunningError'))).toBe(3)
    expect(exitCodeFor(named('NotFoundError'))).toBe(4)
    expect(exitCodeFor(named('TaskFailedError'))).toBe(5)
    for (const name of ['PermissionDeniedError', 'PeerUnreachableError', 'StoreFullError', 'HomeLockedError']) {
      expect(exitCodeFor(named(name)), name).toBe(1)
    }
    expect(exitCodeFor(new Error('x'))).toBe(1)
    expect(exitCodeFor('a string')).toBe(1)
    expect(exitCodeFor(null)).toBe(1)
    expect(exitCodeFor(named('toString'))).toBe(1)
  })
})
