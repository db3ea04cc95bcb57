package io.github.openailb.core;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A client-side requests- and tokens-per-minute budget for a backend that reports no quota
 * headers, so spill-over starts before its first 429. Fixed one-minute windows: cheap and
 * lock-free; a burst straddling two windows may briefly reach twice the budget.
 */
final class LocalBudget {

	private static final long WINDOW = 60_000;

	private final long rpm;

	private final long tpm;

	private final AtomicLong windowStart = new AtomicLong();

	private final AtomicLong requests = new AtomicLong();

	private final AtomicLong tokens = new AtomicLong();

	LocalBudget(long rpm, long tpm) {
		this.rpm = rpm;
		this.tpm = tpm;
	}

	boolean allows(long now, long estimatedTokens) {
		roll(now);
		return (this.rpm <= 0 || this.requests.get() < this.rpm)
				&& (this.tpm <= 0 || this.tokens.get() + estimatedTokens <= this.tpm);
	}

	void consume(long now, long estimatedTokens) {
		roll(now);
		this.requests.incrementAndGet();
		this.tokens.addAndGet(estimatedTokens);
	}

	/** When the current window ends. */
	long windowEnd() {
		return this.windowStart.get() + WINDOW;
	}

	private void roll(long now) {
		long start = this.windowStart.get();
		if (now >= start + WINDOW && this.windowStart.compareAndSet(start, now - (now % WINDOW))) {
			this.requests.set(0);
			this.tokens.set(0);
		}
	}

}
