package io.github.openailb.core;

/**
 * Recorded in a backend's circuit breaker for a failed (5xx or 408) answer.
 */
public class BackendFailureException extends RuntimeException {

	private final int status;

	/**
	 * Create a new exception.
	 * @param status the HTTP status the backend answered
	 */
	public BackendFailureException(int status) {
		super("backend answered " + status, null, false, false);
		this.status = status;
	}

	/**
	 * Return the HTTP status the backend answered.
	 * @return the status
	 */
	public int getStatus() {
		return this.status;
	}

}
