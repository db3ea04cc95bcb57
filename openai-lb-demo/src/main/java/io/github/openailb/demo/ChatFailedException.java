package io.github.openailb.demo;

/**
 * No backend gave a usable answer: {@code status} is 502 when the last backend answered with an
 * error, 503 when none could be reached.
 */
class ChatFailedException extends RuntimeException {

	private final int status;

	ChatFailedException(int status, String message, Throwable cause) {
		super(message, cause);
		this.status = status;
	}

	int status() {
		return this.status;
	}

}
