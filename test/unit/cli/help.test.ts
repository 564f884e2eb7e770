/**
 * `--help` on every command and every command group, from the command table itself.
 */
import { describe, expect, it } from 'vitest'
import { COMMANDS, GROUPS } from '../../../src/cli/commands/index.js'
import { main } from '../../../src/cli/main.js'

interface Run { code: number, stdout: string, stderr: string }

async function run (argv: string[]): Promise<Run> {
  let stdout = ''
  let stderr = ''
  // a home that cannot hold a daemon: help must never need one
  const code = await main(argv, { out: s => { stdout += s }, err: s => { stderr += s }, env: { PAIRED_HOME: '/nonexistent/paired-help-test' } })
  return { code, stdout, stderr }
}

describe('help', () => {
  it('every command: --help, -h and paired help WORDS print its usage on stdout, exit 0', async () => {
    for (const name of Object.keys(COMMANDS)) {
      const words = name.split(' ')
      for (const argv of [[...words, '--help'], [...words, '-h'], ['help', ...words], ['--help', ...words]]) {
        const r = await run(argv)
        expect(r.code, argv.join(' ')).toBe(0)
        expect(r.stderr, argv.join(' ')).toBe('')
        expect(r.stdout, argv.join(' ')).toMatch(new RegExp(`^usage: paired ${name.replace(/[-]/g, '\\-')}\\b`))
      }
    }
  })

  it('every group: paired G, paired G --help and paired help G list each of its commands', async () => {
    expect(GROUPS).toEqual(expect.arrayContaining(['team', 'kv', 'peer', 'task']))
    for (const group of GROUPS) {
      const members = Object.keys(COMMANDS).filter(n => n.startsWith(`${group} `))
      expect(members.length, group).toBeGreaterThan(0)
      // bare `paired team` is a command of its own (the team); bare `paired kv` lists
      const bare = Object.hasOwn(COMMANDS, group) ? [] : [[group]]
      for (const argv of [[group, '--help'], [group, '-h'], ['help', group], ...bare]) {
        const r = await run(argv)
        expect(r.code, argv.join(' ')).toBe(0)
        expect(r.stdout, argv.join(' ')).toMatch(new RegExp(`^usage: paired ${group} <command>`))
        for (const name of members) expect(r.stdout, `${argv.join(' ')} lists ${name}`).toMatch(new RegExp(`^ {2}${name}\\b`, 'm'))
      }
    }
    // `paired team` and `paired task` themselves: `team` is a command too, listed in its group
    expect((await run(['team', '--help'])).stdout).toMatch(/^ {2}team +the team this daemon is in/m)
  })

  it('the overview lists each command once', async () => {
    const r = await run(['--help'])
    expect(r.code).toBe(0)
    const lines = r.stdout.split('\n').filter(l => /^ {2}\S/.test(l))
    for (const name of Object.keys(COMMANDS)) {
      const matching = lines.filter(l => new RegExp(`^ {2}${name}(?: |$)`).test(l) && !Object.keys(COMMANDS).some(other => other !== name && other.startsWith(`${name} `) && l.startsWith(`  ${other}`)))
      expect(matching, name).toHaveLength(1)
    }
    expect(lines.filter(l => l.startsWith('  peer show'))).toHaveLength(1)
  })

  it('help of a subcommand\'s argument falls back to the command; an unknown group word is a usage error', async () => {
    const revoke = await run(['help', 'team', 'invite', 'revoke'])
    expect(revoke.code).toBe(0)
    expect(revoke.stdout).toMatch(/^usage: paired team invite /)
    const unknown = await run(['kv', 'frobnicate'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toMatch(/^paired: unknown command 'kv frobnicate' \(run 'paired help'\)\n$/)
    const unknownHelp = await run(['help', 'frobnicate'])
    expect(unknownHelp.code).toBe(2)
    expect(unknownHelp.stderr).toMatch(/^paired: unknown command 'frobnicate' \(run 'paired help'\)\n$/)
  })
})
