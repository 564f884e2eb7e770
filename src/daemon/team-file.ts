/**
 * `team.json` (mode 0600): the team this daemon is in, its network key, this daemon's own
 * certificate, and the team's signing key when this daemon founded the team. Written
 * atomically (temporary file, fsync, rename).
 */
import { chmod, open, rename } from 'node:fs/promises'
import { readTextIfExists } from '../files.js'
import { InvalidConfigError } from '../errors.js'
import type { MemberCertificate, TeamInfo } from '../team/index.js'

export interface TeamFile {
  v: 1
  team: TeamInfo
  cert: MemberCertificate
  /** base64url Ed25519 seed of the team key; only on the founder's machine */
  teamSeed?: string
  /** how many times the network key was rotated (0 or absent: the key of the invite) */
  keyEpoch?: number
}

export async function readTeamFile (path: string): Promise<TeamFile | undefined> {
  const text = await readTextIfExists(path)
  if (text === undefined) return undefined
  try {
    const parsed = JSON.parse(text) as TeamFile
    if (parsed?.v !== 1 || parsed.team == null || parsed.cert == null) throw new Error('missing fields')
    return parsed
  } catch (err) {
    throw new InvalidConfigError(`${path} is damaged (${(err as Error).message}); move it away to start in a new personal team`)
  }
}

export async function writeTeamFile (path: string, file: TeamFile): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`
  const fh = await open(tmp, 'w', 0o600)
  try {
    await fh.writeFile(JSON.stringify(file, null, 2))
    await fh.sync()
  } finally {
    await fh.close()
  }
  await chmod(tmp, 0o600)
  await rename(tmp, path)
}
