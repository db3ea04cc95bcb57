package io.github.openailb.core;

import java.time.Duration;
import java.util.function.Function;

/**
 * What a backend last reported about its quota through {@code x-ratelimit-*} headers. Values
 * it did not report (or reported as garbage) are {@code -1}: unknown, never "empty". A report
 * is only trusted until its reset window ends.
 *
 * @param remainingRequests requests left in the window, or -1
 * @param limitRequests requests per window, or -1
 * @param remainingTokens tokens left in the window, or -1
 * @param limitTokens tokens per window, or -1
 * @param seenAt when it was reported, epoch milliseconds of the balancer clock
 * @param validUntil after this time the report is stale and ignored
 */
public record Headroom(long remainingRequests, long limitRequests, long remainingTokens, long limitTokens,
		long seenAt, long validUntil) {

	/** How long a report without a reset hint is trusted. */
	static final long DEFAULT_VALIDITY = 60_000;

	/**
	 * Read a report from an answer's headers.
	 * @param headers header lookup by lower-case name
	 * @param now the current time
	 * @return the report, or {@code null} when the answer carries none
	 */
	static Headroom read(Function<String, String> headers, long now) {
		long remainingRequests = count(headers.apply("x-ratelimit-remaining-requests"));
		long remainingTokens = count(headers.apply("x-ratelimit-remaining-tokens"));
		if (remainingRequests < 0 && remainingTokens < 0) {
			return null;
		}
		Duration resetRequests = CoolDownHints.goOrSeconds(headers.apply("x-ratelimit-reset-requests"));
		Duration resetTokens = CoolDownHints.goOrSeconds(headers.apply("x-ratelimit-reset-tokens"));
		long reset = Math.max((resetRequests != null) ? resetRequests.toMillis() : 0,
				(resetTokens != null) ? resetTokens.toMillis() : 0);
		return new Headroom(remainingRequests, count(headers.apply("x-ratelimit-limit-requests")), remainingTokens,
				count(headers.apply("x-ratelimit-limit-tokens")), now, now + ((reset > 0) ? reset : DEFAULT_VALIDITY));
	}

	/**
	 * Whether the report still describes the backend.
	 * @param now the current time
	 * @return {@code true} until the reset window ends
	 */
	public boolean isFresh(long now) {
		return now < this.validUntil;
	}

	/**
	 * The share of quota left, the smaller of requests and tokens where both the remainder and
	 * the limit are known.
	 * @return a value in [0, 1], or -1 when unknown
	 */
	public double share() {
		double share = -1;
		if (this.remainingRequests >= 0 && this.limitRequests > 0) {
			share = Math.min(1, (double) this.remainingRequests / this.limitRequests);
		}
		if (this.remainingTokens >= 0 && this.limitTokens > 0) {
			double tokens = Math.min(1, (double) this.remainingTokens / this.limitTokens);
			share = (share < 0) ? tokens : Math.min(share, tokens);
		}
		return share;
	}

	/** Whether the backend said it cannot take a request of this many tokens now. */
	boolean cannotTake(long estimatedTokens) {
		return this.remainingRequests == 0 || (this.remainingTokens >= 0 && this.remainingTokens < estimatedTokens);
	}

	private static long count(String value) {
		if (value == null) {
			return -1;
		}
		String text = value.strip();
		if (text.isEmpty() || text.length() > 15) {
			return -1;
		}
		for (int i = 0; i < text.length(); i++) {
			if (text.charAt(i) < '0' || text.charAt(i) > '9') {
				return -1;
			}
		}
		return Long.parseLong(text);
	}

}
