import { describe, expect, it } from 'vitest'
import { handOut, type RotationTarget } from '../../../src/daemon/rotation.js'
import type { KeyRotation } from '../../../src/daemon/rekey.js'
import type { MemberCertificate } from '../../../src/team/index.js'

const rotation = { keyEpoch: 1 } as unknown as KeyRotation
const member = (peerId: string): MemberCertificate => ({ peerId, name: peerId }) as unknown as MemberCertificate

describe('handOut', () => {
  it('a member admitted while the key goes out gets it in the next round', async () => {
    const members = [member('self'), member('bob')]
    const sent: string[] = []
    const target: RotationTarget = {
      currentMembers: () => members,
      isVerified: () => true,
      sendRekey: async peer => {
        sent.push(peer)
        // while bob is being handed the key, dave is admitted
        if (peer === 'bob') members.push(member('dave'))
      }
    }
    const r = await handOut(target, rotation, { skip: ['self'] })
    expect(sent).toStrictEqual(['bob', 'dave'])
    expect(r).toStrictEqual({ delivered: ['bob', 'dave'], missed: [] })
  })

  it('a member that does not take it, or is not connected, is missed; nobody is sent it twice', async () => {
    const members = [member('self'), member('bob'), member('carol'), member('eve')]
    const sent: string[] = []
    const target: RotationTarget = {
      currentMembers: () => members,
      isVerified: peer => peer !== 'eve',
      sendRekey: async peer => { sent.push(peer); if (peer === 'carol') throw new Error('refused') }
    }
    const r = await handOut(target, rotation, { skip: ['self'], maxRounds: 3 })
    expect(sent.sort()).toStrictEqual(['bob', 'carol'])
    expect(r).toStrictEqual({ delivered: ['bob'], missed: ['carol', 'eve'] })
  })
})
