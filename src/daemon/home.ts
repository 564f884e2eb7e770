import { chmod, lstat, readdir } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

/** The files a home folder holds (docs/DESIGN.md §7). */
export interface HomePaths {
  home: string
  /** the machine's Ed25519 key, protobuf-encoded, mode 0600 */
  key: string
  config: string
  /** LevelDB folder */
  db: string
  apiToken: string
  apiSocket: string
  /** pid lock file held while a daemon runs */
  lock: string
  /** the team's private state: network key, team key (founder), own certificate; 0600 */
  team: string
}

/** `--home DIR`, else `$PAIRED_HOME`, else `~/.paired`. */
export function resolveHome (flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (flag != null && flag !== '') return resolve(flag)
  if (env.PAIRED_HOME != null && env.PAIRED_HOME !== '') return resolve(env.PAIRED_HOME)
  return join(homedir(), '.paired')
}

export function homePaths (home: string): HomePaths {
  return {
    home,
    key: join(home, 'key'),
    config: join(home, 'config.json'),
    db: join(home, 'db'),
    apiToken: join(home, 'api.token'),
    apiSocket: join(home, 'api.sock'),
    lock: join(home, 'daemon.lock'),
    team: join(home, 'team.json')
  }
}

/** the mode of the home and every folder in it: only its owner may list or enter them */
export const PRIVATE_DIR_MODE = 0o700
/** the mode of every file in the home */
export const PRIVATE_FILE_MODE = 0o600
/** the umask of a daemon process: what it creates is 0700 / 0600, like ssh and gpg */
export const DAEMON_UMASK = 0o077

/** `path`'s mode bits, or `undefined` for nothing there or a symbolic link (never followed) */
async function modeOf (path: string): Promise<{ mode: number, dir: boolean, uid: number } | undefined> {
  try {
    const info = await lstat(path)
    return info.isSymbolicLink() ? undefined : { mode: info.mode, dir: info.isDirectory(), uid: info.uid }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

/**
 * Makes the home private to its owner, as ssh and gpg do: a home made by an older
 * version, or by hand, may be 0755 with a `db/` of 0644 files. The home folder becomes
 * 0700 (unless it is not this user's, or is a shared sticky folder like /tmp); its own
 * files (key, config, team, token, socket, lock) 0600; `db/` and everything in it 0700
 * folders and 0600 files. Only group and other bits are taken away: a file its owner made
 * 0400 stays so. Nothing else in the folder is touched, and symbolic links are never
 * followed. Resolves with the paths it changed.
 */
export async function secureHome (paths: HomePaths): Promise<string[]> {
  const changed: string[] = []
  const tighten = async (path: string, recurse: boolean): Promise<void> => {
    const info = await modeOf(path)
    if (info == null) return
    if ((info.mode & 0o077) !== 0) {
      await chmod(path, info.dir ? PRIVATE_DIR_MODE : PRIVATE_FILE_MODE)
      changed.push(path)
    }
    if (info.dir && recurse) {
      for (const entry of await readdir(path)) await tighten(join(path, entry), true)
    }
  }
  const home = await modeOf(paths.home)
  const mine = home != null && (process.getuid == null || home.uid === process.getuid())
  if (home?.dir === true && mine && (home.mode & 0o1000) === 0) await tighten(paths.home, false)
  for (const file of [paths.key, paths.config, paths.team, paths.apiToken, paths.apiSocket, paths.lock]) await tighten(file, false)
  await tighten(paths.db, true)
  return changed
}
