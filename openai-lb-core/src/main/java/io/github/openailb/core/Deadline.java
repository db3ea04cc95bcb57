package io.github.openailb.core;

import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A time in epoch milliseconds that several threads move: a cool-down's end, a breaker's next
 * probe. Zero when none is set. Only compare-and-set changes it, so each rule below holds whatever
 * the interleaving.
 */
@SuppressWarnings("serial") // never serialized: live state only
final class Deadline extends AtomicLong {

	/** The deadline while it is ahead of {@code now}, else {@code null}. */
	Instant ahead(long now) {
		long until = get();
		return (until > now) ? Instant.ofEpochMilli(until) : null;
	}

	/** Move it to {@code until} if that is later (never earlier); returns whether it moved. */
	boolean extendTo(long until) {
		long current;
		do {
			current = get();
			if (until <= current) {
				return false;
			}
		}
		while (!compareAndSet(current, until));
		return true;
	}

	/**
	 * Clear it if it has passed: only the deadline seen, never one set meanwhile. Returns whether it
	 * cleared one.
	 */
	boolean clearIfPast(long now) {
		long until = get();
		return until != 0 && until <= now && compareAndSet(until, 0);
	}

	/** Clear the deadline seen, whether passed or not; one set meanwhile stays. */
	void clearAsSeen() {
		long until = get();
		if (until != 0) {
			compareAndSet(until, 0);
		}
	}

}
