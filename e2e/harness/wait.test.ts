import { describe, expect, it } from 'vitest';
import { done, notYet, waitFor, WaitTimeoutError } from './wait.ts';

describe('waitFor', () => {
  it('returns the value once the probe is done', async () => {
    let n = 0;
    await expect(
      waitFor('n to reach 3', () => (++n >= 3 ? done(n) : notYet(n)), { intervalMs: 1 }),
    ).resolves.toBe(3);
  });

  it('says what it waited for and what it last saw when the deadline passes', async () => {
    const err = await waitFor('pods to be Ready', () => notYet({ ready: 1, want: 3 }), {
      timeoutMs: 50,
      intervalMs: 5,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WaitTimeoutError);
    expect((err as Error).message).toBe(
      'timed out after 0.1s waiting for pods to be Ready; last saw: {"ready":1,"want":3}',
    );
  });

  it('treats a throwing probe as not yet, and reports its error', async () => {
    await expect(
      waitFor('the API', () => Promise.reject(new Error('ECONNREFUSED')), {
        timeoutMs: 30,
        intervalMs: 5,
      }),
    ).rejects.toThrow(/last saw: error: ECONNREFUSED/);
  });
});
