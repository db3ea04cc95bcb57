package io.github.openailb.testsupport;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * Bounded polling for conditions reached asynchronously (pub/sub delivery, reconnection).
 */
public final class Awaits {

	private Awaits() {
	}

	/**
	 * Wait until the condition holds, checking every few milliseconds, or fail after the bound.
	 * @param bound the longest wait
	 * @param condition the condition
	 * @param what the condition, for the failure message
	 */
	public static void until(Duration bound, BooleanSupplier condition, String what) {
		long deadline = System.nanoTime() + bound.toNanos();
		while (!condition.getAsBoolean()) {
			if (System.nanoTime() - deadline > 0) {
				throw new AssertionError("timed out after " + bound + " waiting until " + what);
			}
			try {
				Thread.sleep(10);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				throw new AssertionError("interrupted waiting until " + what);
			}
		}
	}

}
