import { chmod, mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { homePaths, secureHome } from '../../../src/daemon/home.js'

const modeOf = async (path: string): Promise<number> => (await stat(path)).mode & 0o777

describe('secureHome', () => {
  let parent: string
  beforeEach(async () => { parent = await mkdtemp(join(tmpdir(), 'paired-home-perms-')) })
  afterEach(async () => { await rm(parent, { recursive: true, force: true }) })

  it('a 0755 home with a 0644 db becomes 0700 folders and 0600 files; nothing else is touched', async () => {
    const paths = homePaths(join(parent, 'home'))
    await mkdir(join(paths.db, 'sub'), { recursive: true })
    await writeFile(paths.key, 'k')
    await writeFile(paths.config, '{}')
    await writeFile(join(paths.db, 'CURRENT'), 'x')
    await writeFile(join(paths.db, 'sub', '000001.log'), 'x')
    await writeFile(join(paths.home, 'notes.txt'), 'mine')
    const outside = join(parent, 'outside.txt')
    await writeFile(outside, 'x')
    await chmod(outside, 0o644)
    await symlink(outside, join(paths.db, 'link'))
    await writeFile(paths.team, 't')
    for (const p of [paths.home, paths.db, join(paths.db, 'sub')]) await chmod(p, 0o755)
    for (const p of [paths.key, paths.config, join(paths.db, 'CURRENT'), join(paths.db, 'sub', '000001.log'), join(paths.home, 'notes.txt')]) await chmod(p, 0o644)
    await chmod(paths.team, 0o400)

    const changed = await secureHome(paths)
    expect(changed.sort()).toEqual([paths.home, paths.key, paths.config, paths.db, join(paths.db, 'CURRENT'), join(paths.db, 'sub'), join(paths.db, 'sub', '000001.log')].sort())
    for (const dir of [paths.home, paths.db, join(paths.db, 'sub')]) expect(await modeOf(dir), dir).toBe(0o700)
    for (const file of [paths.key, paths.config, join(paths.db, 'CURRENT'), join(paths.db, 'sub', '000001.log')]) expect(await modeOf(file), file).toBe(0o600)
    expect(await modeOf(paths.team)).toBe(0o400)
    expect(await modeOf(join(paths.home, 'notes.txt'))).toBe(0o644)
    expect(await modeOf(outside)).toBe(0o644)
    expect(await secureHome(paths)).toEqual([])
  })

  it('a shared sticky folder (like /tmp) as the home is left as it is', async () => {
    const paths = homePaths(join(parent, 'shared'))
    await mkdir(paths.home)
    await chmod(paths.home, 0o1777)
    await secureHome(paths)
    expect((await stat(paths.home)).mode & 0o7777).toBe(0o1777)
  })
})
