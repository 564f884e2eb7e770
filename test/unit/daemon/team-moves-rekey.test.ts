import { beforeAll, describe, expect, it } from 'vitest'
import { newRotation } from '../../../src/daemon/rekey.js'
import type { TeamSession } from '../../../src/daemon/session.js'
import type { TeamFile } from '../../../src/daemon/team-file.js'
import { TeamMoves, type TeamMovesHost } from '../../../src/daemon/team-moves.js'
import { Roster, issueCertificate } from '../../../src/team/index.js'
import { T0, makePeers, makeTeam, type TestPeer, type TestTeam } from '../team/helpers.js'

let t: TestTeam
let peers: TestPeer[]

beforeAll(async () => {
  t = await makeTeam()
  peers = await makePeers(1)
})

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/** a member (peers[0]) of `t` whose admin is the founder; its moves over a stub daemon */
function member () {
  const roster = new Roster(t.team)
  roster.add(t.founderCert, T0)
  const cert = issueCertificate({ team: t.team, teamSeed: t.teamSeed, peerId: peers[0].peerId, name: 'bob', role: 'member', now: T0 })
  roster.add(cert, T0)
  let file: TeamFile = { v: 1, team: t.team, cert }
  const entered: TeamFile[] = []
  const lines: string[] = []
  let release = (): void => {}
  const stored = new Promise<void>(resolve => { release = resolve })
  // nobody else to pass the key on to: the stub session has no verified members
  const session = { roster, isMember: () => true, currentMembers: () => roster.members(), isVerified: () => false } as unknown as TeamSession
  const host = {
    peerId: () => peers[0].peerId,
    line: (text: string) => { lines.push(text) },
    emit: () => {},
    teamFile: () => file,
    session: () => session,
    setTeamFile: (next: TeamFile) => { file = next },
    // storing the key takes until the test releases it: rotations arrive meanwhile
    saveTeamFile: async () => { await stored },
    enterTeam: async (next: TeamFile) => { entered.push(next); return session }
  } as unknown as TeamMovesHost
  return { moves: new TeamMoves(host), entered, lines, file: () => file, release }
}

describe('TeamMoves: taking a key rotation', () => {
  it('takes a rotation that several members relay once: one switch, one line', async () => {
    const m = member()
    const rotation = newRotation(t.team.teamId, 1, t.founder.signer)
    // the admin's copy and two relays of it arrive before the switch
    expect(await m.moves.onRekey(rotation, t.founder.peerId)).toBe(true)
    expect(await m.moves.onRekey(structuredClone(rotation), 'relay-1')).toBe(true)
    // past the answer's grace: the switch is under way, the key is being stored
    await sleep(300)
    expect(await m.moves.onRekey(structuredClone(rotation), 'relay-2')).toBe(true)
    m.release()
    await sleep(100)
    expect(m.entered.map(f => f.keyEpoch)).toStrictEqual([1])
    expect(m.file().keyEpoch).toBe(1)
    expect(m.file().team.psk).toBe(rotation.psk)
    expect(m.lines.filter(l => l.startsWith('new network key'))).toHaveLength(1)
    // once switched, the same rotation is no longer newer
    expect(await m.moves.onRekey(rotation, 'relay-3')).toBe(false)
  })

  it('refuses another rotation of an epoch it is already taking', async () => {
    const m = member()
    const first = newRotation(t.team.teamId, 1, t.founder.signer)
    const rival = newRotation(t.team.teamId, 1, t.founder.signer)
    expect(await m.moves.onRekey(first, t.founder.peerId)).toBe(true)
    expect(await m.moves.onRekey(rival, 'relay-1')).toBe(false)
    await sleep(300)
    m.release()
    await sleep(100)
    expect(m.entered.map(f => f.team.psk)).toStrictEqual([first.psk])
  })
})
