import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { fetchTopicOffsets, isLeadershipSettling, type PartitionOffsets } from './offsets';

/** kafkajs's own protocol error, as its admin client throws it for a broker's error code. */
const protocolError = (type: string, code: number) => {
  // Its declared constructor takes a message or an Error; at run time it reads type and code from it too.
  const brokerError = Object.assign(new Error(`broker said ${type}`), { type, code, retriable: true });
  return new kafkajs.KafkaJSProtocolError(brokerError);
};

const OFFSETS: PartitionOffsets[] = [{ partition: 0, offset: '5', high: '5', low: '0' }];

/** An admin client whose first answers are the given errors, then the offsets. */
function adminFailingWith(...errors: Error[]) {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    fetchTopicOffsets: async (): Promise<PartitionOffsets[]> => {
      const error = errors[calls++];
      if (error) throw error;
      return OFFSETS;
    },
  };
}

describe('fetchTopicOffsets', () => {
  it('asks again while a partition leader is being chosen', async () => {
    const admin = adminFailingWith(protocolError('NOT_LEADER_FOR_PARTITION', 6), protocolError('LEADER_NOT_AVAILABLE', 5));
    await expect(fetchTopicOffsets(admin, 'events.product_view', [1, 1, 1])).resolves.toEqual(OFFSETS);
    expect(admin.calls).toBe(3);
  });

  it('throws the last error once the waits are used up', async () => {
    const admin = adminFailingWith(...Array.from({ length: 4 }, () => protocolError('NOT_LEADER_FOR_PARTITION', 6)));
    await expect(fetchTopicOffsets(admin, 't', [1, 1])).rejects.toThrow('NOT_LEADER_FOR_PARTITION');
    expect(admin.calls).toBe(3);
  });

  it('throws any other error at once', async () => {
    const admin = adminFailingWith(protocolError('TOPIC_AUTHORIZATION_FAILED', 29));
    await expect(fetchTopicOffsets(admin, 't', [1, 1])).rejects.toThrow('TOPIC_AUTHORIZATION_FAILED');
    expect(admin.calls).toBe(1);
    expect(isLeadershipSettling(new Error('NOT_LEADER_FOR_PARTITION'))).toBe(false);
  });
});
