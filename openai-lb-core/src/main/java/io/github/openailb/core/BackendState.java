package io.github.openailb.core;

/**
 * What a backend can do right now, as shown in health details.
 */
public enum BackendState {

	/** Takes traffic. */
	AVAILABLE,

	/** Throttled (or asked for a pause) until a known time. */
	COOLING_DOWN,

	/** Its circuit breaker is open after too many failures. */
	CIRCUIT_OPEN,

	/** Its circuit breaker lets a few probe calls through. */
	HALF_OPEN,

	/** Its last answer was 401, 403 or 404: a key or deployment is wrong on this instance. */
	MISCONFIGURED,

	/** Switched off by configuration, or taken out at runtime by an operator. */
	DISABLED

}
