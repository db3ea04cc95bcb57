package io.github.openailb.demo;

/**
 * Every backend is throttled; the caller should come back after the given time.
 */
class ChatThrottledException extends RuntimeException {

	private final long retryAfterSeconds;

	ChatThrottledException(long retryAfterSeconds, Throwable cause) {
		super("Every backend is throttled; retry after " + retryAfterSeconds + "s", cause);
		this.retryAfterSeconds = retryAfterSeconds;
	}

	long retryAfterSeconds() {
		return this.retryAfterSeconds;
	}

}
