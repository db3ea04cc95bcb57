package io.github.openailb.core;

import java.io.IOException;

/**
 * No backend gave any answer to a request: every one that could be tried failed to connect,
 * timed out, broke, or none was enabled. The message names the backends tried and what each did;
 * it never contains keys, tokens or query strings.
 */
public class NoBackendAnsweredException extends IOException {

	/**
	 * Create a new exception.
	 * @param reason the backends tried and what each did
	 */
	public NoBackendAnsweredException(String reason) {
		super("openai-lb: no backend answered the request; " + reason);
	}

}
