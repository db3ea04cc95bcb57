package io.github.openailb.demo;

/**
 * Reads the whole seconds of a {@code Retry-After} header the balancer set.
 */
final class RetryAfter {

	private RetryAfter() {
	}

	static long seconds(String header) {
		try {
			return Math.max(1, Long.parseLong(header.trim()));
		}
		catch (RuntimeException ex) {
			return 1;
		}
	}

}
