package io.github.openailb.transport;

import java.io.IOException;

/**
 * An answer the balancer does not hand to a caller: a redirect, a protocol switch, a status that
 * is not HTTP. The attempt fails (a breaker failure) and the request moves on to another backend.
 * The message names the status only, never a header value such as {@code Location}.
 */
final class RefusedAnswerException extends IOException {

	RefusedAnswerException(String message) {
		super(message, null);
	}

	/** For a redirect, or an interim status that reached the caller's side as if it were final. */
	static RefusedAnswerException of(int status) {
		return new RefusedAnswerException((status >= 300) ? "answered " + status + ", a redirect, which is never followed"
				: "answered " + status + " as a final answer, which HTTP does not allow");
	}

}
