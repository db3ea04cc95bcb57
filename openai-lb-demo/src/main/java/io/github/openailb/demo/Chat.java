package io.github.openailb.demo;

import reactor.core.publisher.Flux;

/**
 * Sends one user message to the balanced chat model. Failures surface as
 * {@link ChatThrottledException} or {@link ChatFailedException}, whatever the transport.
 */
interface Chat {

	/**
	 * Ask and wait for the whole reply.
	 * @param message the user's message
	 * @return the reply
	 */
	String call(String message);

	/**
	 * Ask and receive the reply in chunks as the model writes it.
	 * @param message the user's message
	 * @return the reply's chunks
	 */
	Flux<String> stream(String message);

}
