package io.github.openailb.testsupport;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A clock that moves only when a test says so, so cool-downs never need sleeping. Safe to read
 * and advance from several threads.
 */
public final class MutableClock extends Clock {

	private final AtomicLong millis;

	public MutableClock(Instant start) {
		this.millis = new AtomicLong(start.toEpochMilli());
	}

	public MutableClock() {
		this(Instant.parse("2026-01-01T00:00:00Z"));
	}

	public void advance(Duration duration) {
		this.millis.addAndGet(duration.toMillis());
	}

	public void advanceMillis(long millis) {
		this.millis.addAndGet(millis);
	}

	@Override
	public long millis() {
		return this.millis.get();
	}

	@Override
	public Instant instant() {
		return Instant.ofEpochMilli(this.millis.get());
	}

	@Override
	public ZoneId getZone() {
		return ZoneOffset.UTC;
	}

	@Override
	public Clock withZone(ZoneId zone) {
		return this;
	}

}
