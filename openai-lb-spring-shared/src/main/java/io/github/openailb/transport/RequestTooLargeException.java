package io.github.openailb.transport;

import java.io.IOException;

/**
 * A request body is larger than {@code openai.lb.max-request-body}, the most the balancer holds
 * in memory to replay on failover. No backend was tried.
 */
public class RequestTooLargeException extends IOException {

	/**
	 * Create a new exception.
	 * @param size the body's size in bytes, or a negative number when only known to be larger
	 * @param limit the limit in bytes
	 */
	public RequestTooLargeException(long size, long limit) {
		super("openai-lb: the request body" + ((size >= 0) ? " of " + size + " bytes" : "")
				+ " is larger than openai.lb.max-request-body (" + limit + " bytes), the most the balancer holds to "
				+ "replay it on failover; send a smaller request or raise openai.lb.max-request-body");
	}

}
