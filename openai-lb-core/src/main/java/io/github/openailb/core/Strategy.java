package io.github.openailb.core;

/**
 * How a backend is chosen among the available ones of the best priority.
 */
public enum Strategy {

	/**
	 * By configured weight alone, reacting to 429s as they come; quota headers only serve health
	 * and metrics. Client-side {@code rpm}/{@code tpm} budgets still apply.
	 */
	WEIGHTED,

	/**
	 * By weight times the share of quota the backend last reported left
	 * ({@code x-ratelimit-remaining-*}); a backend whose reported tokens cannot cover the
	 * request is passed over until its reset, unless nothing else is left.
	 */
	HEADROOM

}
