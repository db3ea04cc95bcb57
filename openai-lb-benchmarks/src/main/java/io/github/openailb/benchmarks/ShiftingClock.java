package io.github.openailb.benchmarks;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The system clock plus an offset that a benchmark can move forward, to end a cool-down at once
 * without waiting for it.
 */
final class ShiftingClock extends Clock {

	private final AtomicLong offset = new AtomicLong();

	void shift(long millis) {
		this.offset.addAndGet(millis);
	}

	@Override
	public long millis() {
		return System.currentTimeMillis() + this.offset.get();
	}

	@Override
	public Instant instant() {
		return Instant.ofEpochMilli(millis());
	}

	@Override
	public ZoneId getZone() {
		return ZoneOffset.UTC;
	}

	@Override
	public Clock withZone(ZoneId zone) {
		throw new UnsupportedOperationException();
	}

}
