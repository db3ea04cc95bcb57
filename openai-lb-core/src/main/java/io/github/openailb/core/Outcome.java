package io.github.openailb.core;

/**
 * What one attempt's answer means for the request and for the backend (SPEC §3).
 */
public enum Outcome {

	/** 2xx: returned to the caller, success recorded. */
	SUCCESS(false),

	/** 429: the backend cools down, the request moves on at once. */
	THROTTLED(true),

	/**
	 * 5xx, 408, a redirect (never followed), a status that is not a final HTTP answer, connect
	 * error, reset or timeout: breaker failure, the request moves on.
	 */
	FAILURE(true),

	/** 401, 403, 404: this backend's key or deployment is wrong; the request moves on. */
	MISCONFIGURED(true),

	/** Any other 4xx: the caller's request is at fault; returned unchanged, nothing else tried. */
	CLIENT_ERROR(false);

	private final boolean failsOver;

	Outcome(boolean failsOver) {
		this.failsOver = failsOver;
	}

	/**
	 * Whether the request moves on to another backend after this outcome.
	 * @return {@code true} to fail over
	 */
	public boolean failsOver() {
		return this.failsOver;
	}

	/**
	 * Classify an HTTP status code.
	 * @param status the status code
	 * @return the outcome
	 */
	public static Outcome ofStatus(int status) {
		if (status >= 200 && status < 300) {
			return SUCCESS;
		}
		if (status < 400) {
			return FAILURE;
		}
		return switch (status) {
			case 429 -> THROTTLED;
			case 401, 403, 404 -> MISCONFIGURED;
			case 408 -> FAILURE;
			default -> (status >= 500) ? FAILURE : CLIENT_ERROR;
		};
	}

}
