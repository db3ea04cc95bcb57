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

	/** For a redirect, an interim status that reached the caller's side as if final, or one HTTP lacks. */
	static RefusedAnswerException of(int status) {
		String why = (status >= 300 && status < 400) ? ", a redirect, which is never followed"
				: (status < 200) ? " as a final answer, which HTTP does not allow" : ", a status HTTP does not define";
		return new RefusedAnswerException("answered " + status + why);
	}

}
