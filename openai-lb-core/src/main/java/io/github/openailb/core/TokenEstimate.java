package io.github.openailb.core;

/**
 * A cheap estimate of the tokens a request will count against a backend's quota: its prompt
 * (about four bytes of JSON per token) plus the completion it may ask for
 * ({@code max_tokens} or {@code max_completion_tokens}). Good enough to steer, never to bill.
 */
public final class TokenEstimate {

	private static final byte[] MAX_TOKENS = "\"max_tokens\"".getBytes();

	private static final byte[] MAX_COMPLETION_TOKENS = "\"max_completion_tokens\"".getBytes();

	private TokenEstimate() {
	}

	/**
	 * Estimate the tokens of a request body.
	 * @param body the request body (JSON), possibly empty
	 * @return the estimate, 0 for an empty body
	 */
	public static long of(byte[] body) {
		if (body.length == 0) {
			return 0;
		}
		long completion = Math.max(number(body, MAX_TOKENS), number(body, MAX_COMPLETION_TOKENS));
		return body.length / 4 + Math.max(0, completion);
	}

	private static long number(byte[] body, byte[] key) {
		int at = indexOf(body, key);
		if (at < 0) {
			return -1;
		}
		int i = at + key.length;
		while (i < body.length && (body[i] == ' ' || body[i] == ':' || body[i] == '\t' || body[i] == '\n' || body[i] == '\r')) {
			i++;
		}
		long value = 0;
		int digits = 0;
		while (i < body.length && body[i] >= '0' && body[i] <= '9' && digits < 9) {
			value = value * 10 + (body[i] - '0');
			i++;
			digits++;
		}
		return (digits > 0) ? value : -1;
	}

	private static int indexOf(byte[] haystack, byte[] needle) {
		outer: for (int i = 0; i <= haystack.length - needle.length; i++) {
			for (int j = 0; j < needle.length; j++) {
				if (haystack[i + j] != needle[j]) {
					continue outer;
				}
			}
			return i;
		}
		return -1;
	}

}
